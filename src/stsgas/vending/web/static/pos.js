// Mobile POS: look up, confirm, sell. One Idempotency-Key per sale attempt,
// kept until that attempt has an answer, so a double tap or a retry after a
// lost response returns the same sale instead of selling twice.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const PENDING = "stsgas.pos.pending";
  let looked = null;   // the confirmed lookup
  let busy = false;

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  function status(text, kind) {
    const el = $("pos-status");
    el.className = text ? `alert ${kind || "ok"}` : "";
    el.textContent = text || "";
  }
  // The attempt for (meter, amount): reused while unanswered, new otherwise.
  function attemptFor(meter, amount) {
    try {
      const p = JSON.parse(sessionStorage.getItem(PENDING) || "null");
      if (p && p.meter === meter && p.amount === amount) return p;
    } catch (e) { /* a corrupt entry is replaced below */ }
    const p = { meter, amount, key: uuid() };
    sessionStorage.setItem(PENDING, JSON.stringify(p));
    return p;
  }
  async function call(method, url, body, headers) {
    const init = { method, headers: Object.assign({ "X-CSRF-Token": csrf, Accept: "application/json" }, headers || {}), credentials: "same-origin" };
    if (body) { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
    const r = await fetch(url, init);
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    return { ok: r.ok, status: r.status, data };
  }

  $("pos-lookup").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const meter = $("pos-meter").value.replace(/[\s-]/g, "");
    $("pos-confirm").hidden = true; $("pos-result").hidden = true; looked = null;
    if (!/^\d{11,18}$/.test(meter)) { status("Enter the 11-digit meter number (or all 18 digits).", "error"); return; }
    status("Looking up…", "ok");
    try {
      const r = await call("GET", `/pos/api/lookup?meter=${encodeURIComponent(meter)}`);
      if (!r.ok) { status((r.data && r.data.detail) || "Lookup failed.", "error"); return; }
      looked = r.data;
      $("pos-c-meter").textContent = looked.meter;
      $("pos-c-name").textContent = looked.customer || "—";
      $("pos-c-mode").textContent = looked.mode_label;
      $("pos-c-status").textContent = looked.status;
      $("pos-c-last").textContent = looked.last_sale || "none yet";
      $("pos-c-kct").hidden = !looked.key_change;
      $("pos-sell-btn").disabled = !looked.can_sell;
      $("pos-confirm").hidden = false;
      const why = (looked.cannot_sell || []).map((r) => `${r.detail} (${r.code})`).join(" ");
      status(looked.can_sell ? "Check the customer's name, then take the money." : `Cannot sell: ${why}` + (looked.warnings.length ? " " + looked.warnings.join(" ") : ""), looked.can_sell ? "ok" : "error");
      $("pos-amount").focus();
    } catch (e) { status("No connection. Try again.", "error"); }
  });

  $("pos-sell").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (busy || !looked) return;
    const amount = $("pos-amount").value.trim().replace(",", ".");
    if (!/^\d+(\.\d{1,2})?$/.test(amount) || Number(amount) <= 0) { status("Enter the amount paid, e.g. 20 or 12.50.", "error"); return; }
    const attempt = attemptFor(looked.meter, amount);
    busy = true; $("pos-sell-btn").disabled = true; status("Selling…", "ok");
    try {
      const r = await call("POST", "/pos/api/sell", { meter: looked.meter, amount }, { "Idempotency-Key": attempt.key });
      if (r.ok) {
        sessionStorage.removeItem(PENDING);
        show(r.data);
      } else if (r.status === 409) {
        status("That sale is still being processed. Tap Sell again in a moment; it will not charge twice.", "warn");
      } else {
        if (r.status < 500) sessionStorage.removeItem(PENDING);  // refused: nothing was sold
        status(r.data && r.data.detail ? `${r.data.detail} (${r.data.code})` : "The sale failed.", "error");
      }
    } catch (e) {
      status("No answer from the server. Tap Sell again: the same sale is retried, never sold twice.", "warn");
    } finally {
      busy = false; $("pos-sell-btn").disabled = false;
    }
  });

  function show(receipt) {
    const list = $("pos-tokens");
    list.textContent = "";
    receipt.tokens.forEach((t, i) => {
      const li = document.createElement("li");
      const step = document.createElement("span"); step.className = "step"; step.textContent = `${i + 1}. ${t.label}`;
      const tok = document.createElement("span"); tok.className = "token"; tok.dataset.digits = t.digits; tok.textContent = t.grouped;
      li.append(step, tok); list.append(li);
    });
    $("pos-r-summary").textContent = `Sale #${receipt.sale_id}: paid ${receipt.paid} (${receipt.split}), credit ${receipt.credited}.` + (receipt.key_change ? " Enter the tokens in order." : "");
    $("pos-confirm").hidden = true; $("pos-result").hidden = false;
    status("Sold. Give the token to the customer.", "ok");
    $("pos-result").dataset.saleId = receipt.sale_id;
    $("pos-share").onclick = () => {
      const text = `Gas token for meter ${receipt.meter}: ` + receipt.tokens.map((t) => t.grouped).join(" then ");
      if (navigator.share) navigator.share({ title: "Gas token", text }).catch(() => {});
      else if (navigator.clipboard) navigator.clipboard.writeText(text).then(() => status("Token copied.", "ok"));
    };
  }

  $("pos-next").addEventListener("click", () => {
    looked = null; $("pos-result").hidden = true; $("pos-meter").value = ""; $("pos-amount").value = "";
    status(""); $("pos-meter").focus();
  });
})();
