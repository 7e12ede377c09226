// Console sell form: stop a double submit from sending the form twice. The
// server also dedupes by the form's idempotency key, so this is a courtesy.
"use strict";
document.addEventListener("submit", (ev) => {
  const form = ev.target;
  if (form.id !== "sale-form") return;
  if (form.dataset.sent) { ev.preventDefault(); return; }
  form.dataset.sent = "1";
  const b = form.querySelector("button[type=submit]");
  if (b) { b.disabled = true; b.textContent = "Selling…"; }
});
