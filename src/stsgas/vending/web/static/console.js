// Console helpers (no inline scripts: the pages run under a strict CSP).
// The sell form is sent once per click; the server also dedupes by the
// form's idempotency key, so this is a courtesy. [data-print] prints.
"use strict";
document.addEventListener("submit", (ev) => {
  const form = ev.target;
  if (form.id !== "sale-form") return;
  if (form.dataset.sent) { ev.preventDefault(); return; }
  form.dataset.sent = "1";
  const b = form.querySelector("button[type=submit]");
  if (b) { b.disabled = true; b.textContent = "Selling…"; }
});
// The login page (where signing out lands) drops the POS's offline copy of its
// page (its queue stays on the phone): with no session, nobody opens the POS offline.
if (location.pathname === "/console/login" && window.caches) {
  caches.keys()
    .then((names) => Promise.all(names.filter((n) => n.startsWith("stsgas-pos")).map((n) => caches.delete(n))))
    .catch(() => {});
}
document.addEventListener("click", (ev) => {
  if (ev.target instanceof Element && ev.target.closest("[data-print]")) window.print();
});
// Management form: show only the fields of the chosen token kind ([data-kind]).
// Without this script every field shows; the server reads only the kind's own.
const kindSelect = document.getElementById("mg-kind");
if (kindSelect) {
  const showKind = () => {
    for (const el of kindSelect.form.querySelectorAll("[data-kind]")) {
      el.hidden = el.dataset.kind !== kindSelect.value;
    }
  };
  kindSelect.addEventListener("change", showKind);
  showKind();
}
