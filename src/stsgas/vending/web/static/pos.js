// Mobile POS: look up, confirm, sell. One Idempotency-Key per sale attempt,
// kept until that attempt has an answer, so a double tap or a retry after a
// lost response returns the same sale instead of selling twice.
// With no network the sale is queued on the device (pos-queue.js) within the
// float last read less what is queued, the customer is told the token follows
// by SMS, and the queue is sent, each sale once, when the network is back.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const Q = window.PosQueue;
  let csrf = document.querySelector('meta[name="csrf-token"]').content;
  const operator = $("pos-root").dataset.operator;
  const PENDING = "stsgas.pos.pending";
  const FLOAT = `stsgas.pos.float.${operator}`;
  const PRINTER_SERVICE = 0x18f0;
  const PRINTER_WRITE = 0x2af1;
  const CHUNK = 100;  // bytes per Bluetooth write: small printers take no more
  // a queued sale's send with no answer by then is given up and sent again later
  // (same key); tests shorten it through window.stsgasPosSendTimeoutMs
  const SEND_TIMEOUT_MS = 20000;
  let looked = null;   // the confirmed lookup
  let busy = false;
  let draining = false;

  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/pos-sw.js", { scope: "/pos" }).catch(() => {});

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
  async function call(method, url, body, headers, signal) {
    const init = { method, headers: Object.assign({ "X-CSRF-Token": csrf, Accept: "application/json" }, headers || {}), credentials: "same-origin", signal };
    if (body) { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
    const r = await fetch(url, init);
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    return { ok: r.ok, status: r.status, data };
  }
  function knownFloat() {
    try { return JSON.parse(localStorage.getItem(FLOAT) || "null"); } catch (e) { return null; }
  }
  async function refreshFloat() {
    try {
      const r = await call("GET", "/pos/api/float");
      if (r.ok) localStorage.setItem(FLOAT, JSON.stringify({ minor: r.data.float_minor, decimals: r.data.decimals, at: new Date().toISOString() }));
    } catch (e) { /* offline: the last known float stays */ }
    await renderPending();
  }
  // The session of now: a page opened from the cache may carry an older CSRF value.
  async function refreshSession() {
    const r = await call("GET", "/pos/api/session");
    if (r.ok) { csrf = r.data.csrf; return r.data.username; }
    return null;
  }

  // ---- the pending list ------------------------------------------------------
  const STATE_TEXT = { queued: "queued", sending: "sending", sold: "sold", refused: "refused" };
  // What every open request on this phone will draw (anyone's: the float check is
  // on the safe side), in minor units.
  function openMinor(items) {
    return items.filter(Q.isOpen).reduce((sum, i) => sum + i.minor, 0);
  }
  async function renderPending() {
    const all = await Q.all();
    const items = all.filter((i) => i.operator === operator);
    const open = items.filter(Q.isOpen);
    const f = knownFloat();
    const decimals = f ? f.decimals : 2;
    const drawn = openMinor(all);
    $("pos-pending").hidden = items.length === 0;
    $("pos-p-count").textContent = String(open.length);
    $("pos-p-total").textContent = Q.fromMinor(openMinor(items), decimals);
    $("pos-p-float").textContent = f && f.minor !== null ? Q.fromMinor(f.minor - drawn, decimals) : "not known";
    const list = $("pos-p-list");
    list.textContent = "";
    for (const i of items) {
      const li = document.createElement("li");
      li.dataset.key = i.key; li.dataset.state = i.state;
      const what = document.createElement("span"); what.textContent = `Meter ${i.meter} · ${i.amount}`;
      const st = document.createElement("strong"); st.className = "state"; st.textContent = STATE_TEXT[i.state];
      li.append(what, " ", st);
      if (i.state === "sold") {
        li.append(` · sale #${i.sale_id}, token by SMS `);
        const bt = document.createElement("button");
        bt.type = "button"; bt.className = "secondary small"; bt.textContent = "Print (Bluetooth)";
        bt.addEventListener("click", () => printBluetooth(i.sale_id));
        li.append(bt);
      }
      if (i.reason) { const why = document.createElement("span"); why.className = "reason"; why.textContent = ` · ${i.reason}`; li.append(why); }
      list.append(li);
    }
    $("pos-p-clear").hidden = !items.some((i) => !Q.isOpen(i));
  }

  // Send every open sale of this operator, oldest first, each with its own key.
  async function drain() {
    if (draining || !navigator.onLine) return;
    draining = true;
    try {
      const mine = (await Q.all()).filter((i) => i.operator === operator && Q.isOpen(i));
      if (!mine.length) return;
      let who = null;
      try { who = await refreshSession(); } catch (e) { return; }
      if (who !== operator) { status(`Queued sales wait for ${operator} to sign in again.`, "warn"); return; }
      for (const item of mine) {
        item.state = "sending"; item.reason = ""; await Q.put(item); await renderPending();
        let r;
        const ctl = new AbortController();
        const timer = setTimeout(() => ctl.abort(), window.stsgasPosSendTimeoutMs || SEND_TIMEOUT_MS);
        try {
          r = await call("POST", "/pos/api/sell", { meter: item.meter, amount: item.amount }, { "Idempotency-Key": item.key }, ctl.signal);
        } catch (e) {
          item.state = "queued"; item.reason = "no answer yet: sent again"; await Q.put(item); break;  // same key next time
        } finally {
          clearTimeout(timer);
        }
        const code = r.data && r.data.code;
        if (r.ok) { item.state = "sold"; item.sale_id = r.data.sale_id; }
        else if (r.status >= 500 || code === "in_progress" || code === "rate_limited" || r.status === 401 || code === "csrf") {
          item.state = "queued"; item.reason = (r.data && r.data.detail) || `server answered ${r.status}`;
          await Q.put(item); break;
        } else { item.state = "refused"; item.reason = `${(r.data && r.data.detail) || "refused"} (${code || r.status})`; }
        await Q.put(item); await renderPending();
      }
      const left = (await Q.all()).filter((i) => i.operator === operator && Q.isOpen(i)).length;
      status(left ? `${left} queued sale(s) still to send: they are sent again automatically.` : "Queued sales sent: see the pending list.", left ? "warn" : "ok");
    } finally {
      draining = false;
      await refreshFloat();
    }
  }

  // ---- offline sale --------------------------------------------------------
  async function queueSale(meter, amount, key) {
    const f = knownFloat();
    if (!f || f.minor === null || f.minor === undefined) {
      status("Cannot sell offline: this device does not know your float. Go online once first.", "error");
      return false;
    }
    const minor = Q.toMinor(amount, f.decimals);
    if (minor === null) { status(`Enter the amount with at most ${f.decimals} decimals.`, "error"); return false; }
    const items = await Q.all();
    if (!items.some((i) => i.key === key)) {
      const open = openMinor(items);
      if (minor > f.minor - open) {
        status(`Refused offline: ${amount} is more than the float left (${Q.fromMinor(f.minor - open, f.decimals)} after ${Q.fromMinor(open, f.decimals)} queued). No money should be taken.`, "error");
        return false;
      }
      await Q.put({ key, meter, amount, minor, operator, state: "queued", reason: "", sale_id: null, created: new Date().toISOString() });
    }
    sessionStorage.removeItem(PENDING);
    $("pos-q-text").textContent = `Payment of ${amount} for meter ${meter} taken. The token will follow by SMS as soon as the sale is sent.`;
    $("pos-confirm").hidden = true; $("pos-result").hidden = true; $("pos-queued").hidden = false;
    status("Queued: token will follow by SMS.", "warn");
    await renderPending();
    if (navigator.onLine) drain();
    return true;
  }

  function offlineConfirm(meter) {
    looked = { meter, offline: true, can_sell: true, key_change: false, warnings: [], cannot_sell: [] };
    $("pos-c-meter").textContent = meter;
    $("pos-c-name").textContent = "not checked (offline)";
    $("pos-c-mode").textContent = "—";
    $("pos-c-status").textContent = "not checked (offline)";
    $("pos-c-last").textContent = "—";
    $("pos-c-kct").hidden = true;
    $("pos-sell-btn").disabled = false;
    $("pos-confirm").hidden = false;
    status("Offline: the meter cannot be checked now. The sale is sent when the network is back and the token follows by SMS.", "warn");
    $("pos-amount").focus();
  }

  $("pos-lookup").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const meter = $("pos-meter").value.replace(/[\s-]/g, "");
    $("pos-confirm").hidden = true; $("pos-result").hidden = true; $("pos-queued").hidden = true; $("pos-later").hidden = true; looked = null;
    if (!/^\d{11,18}$/.test(meter)) { status("Enter the 11-digit meter number (or all 18 digits).", "error"); return; }
    if (!navigator.onLine) { offlineConfirm(meter); return; }
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
    } catch (e) { offlineConfirm(meter); }
  });

  $("pos-sell").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (busy || !looked) return;
    const amount = $("pos-amount").value.trim().replace(",", ".");
    if (!/^\d+(\.\d{1,6})?$/.test(amount) || !/[1-9]/.test(amount)) { status("Enter the amount paid, e.g. 20 or 12.50.", "error"); return; }
    const attempt = attemptFor(looked.meter, amount);
    busy = true; $("pos-sell-btn").disabled = true;
    try {
      if (!navigator.onLine || looked.offline) { await queueSale(looked.meter, amount, attempt.key); return; }
      status("Selling…", "ok");
      let r;
      try {
        r = await call("POST", "/pos/api/sell", { meter: looked.meter, amount }, { "Idempotency-Key": attempt.key });
      } catch (e) {
        status("No answer from the server. Tap Sell again: the same sale is retried, never sold twice. Or send it later: the token follows by SMS.", "warn");
        $("pos-later").hidden = false;
        return;
      }
      if (r.ok) {
        sessionStorage.removeItem(PENDING);
        show(r.data);
        refreshFloat();
      } else if (r.data && r.data.code === "in_progress") {
        status("That sale is still being processed. Tap Sell again in a moment; it will not charge twice.", "warn");
      } else {
        if (r.status < 500) sessionStorage.removeItem(PENDING);  // refused: nothing was sold
        status(r.data && r.data.detail ? `${r.data.detail} (${r.data.code})` : "The sale failed.", "error");
      }
    } finally {
      busy = false; $("pos-sell-btn").disabled = false;
    }
  });

  // The answer was lost: queue this very attempt (same key) to be sent later.
  $("pos-later").addEventListener("click", async () => {
    if (!looked) return;
    const amount = $("pos-amount").value.trim().replace(",", ".");
    if (await queueSale(looked.meter, amount, attemptFor(looked.meter, amount).key)) $("pos-later").hidden = true;
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
    $("pos-confirm").hidden = true; $("pos-result").hidden = false; $("pos-later").hidden = true;
    status("Sold. Give the token to the customer.", "ok");
    $("pos-result").dataset.saleId = receipt.sale_id;
    $("pos-share").onclick = () => {
      const text = `Gas token for meter ${receipt.meter}: ` + receipt.tokens.map((t) => t.grouped).join(" then ");
      if (navigator.share) navigator.share({ title: "Gas token", text }).catch(() => {});
      else if (navigator.clipboard) navigator.clipboard.writeText(text).then(() => status("Token copied.", "ok"));
    };
  }

  // Print on a Bluetooth thermal printer: the server's ESC/POS bytes, written in
  // chunks to the printer's write characteristic. The sale is only read.
  async function printBluetooth(saleId) {
    if (!navigator.bluetooth) { status("This browser cannot reach Bluetooth printers.", "error"); return; }
    let device = null;
    try {
      device = await navigator.bluetooth.requestDevice({ filters: [{ services: [PRINTER_SERVICE] }], optionalServices: [PRINTER_SERVICE] });
      const r = await fetch(`/pos/api/sales/${encodeURIComponent(saleId)}/receipt.escpos`, { headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" });
      if (!r.ok) throw new Error(`the server answered ${r.status}`);
      const bytes = new Uint8Array(await r.arrayBuffer());
      status("Printing…", "ok");
      const server = await device.gatt.connect();
      const service = await server.getPrimaryService(PRINTER_SERVICE);
      const ch = await service.getCharacteristic(PRINTER_WRITE);
      for (let i = 0; i < bytes.length; i += CHUNK) {
        const part = bytes.slice(i, i + CHUNK);
        if (ch.writeValueWithResponse) await ch.writeValueWithResponse(part); else await ch.writeValue(part);
      }
      status("Receipt printed.", "ok");
    } catch (e) {
      status(`Not printed: ${String(e && e.message ? e.message : e).replace(/\.$/, "")}. The sale is unchanged.`, "error");
    } finally {
      if (device && device.gatt && device.gatt.connected) device.gatt.disconnect();
    }
  }
  $("pos-bt").addEventListener("click", () => printBluetooth($("pos-result").dataset.saleId));

  function nextSale() {
    looked = null; $("pos-result").hidden = true; $("pos-queued").hidden = true; $("pos-meter").value = ""; $("pos-amount").value = "";
    status(navigator.onLine ? "" : "Offline: sales are queued and sent when the network is back.", "warn"); $("pos-meter").focus();
  }
  $("pos-next").addEventListener("click", nextSale);
  $("pos-q-next").addEventListener("click", nextSale);
  $("pos-p-clear").addEventListener("click", async () => {
    for (const i of await Q.all()) if (i.operator === operator && !Q.isOpen(i)) await Q.remove(i.key);
    await renderPending();
  });

  window.addEventListener("online", () => { status("Back online: sending queued sales…", "ok"); drain(); });
  window.addEventListener("offline", () => status("Offline: sales are queued and sent when the network is back.", "warn"));
  setInterval(() => { if (navigator.onLine) drain(); }, 15000);
  (async () => {
    // a sale left "sending" by a closed page is sent again, with its key
    for (const i of await Q.all()) if (i.state === "sending") { i.state = "queued"; await Q.put(i); }
    if (navigator.onLine) { await refreshFloat(); await drain(); } else { await renderPending(); status("Offline: sales are queued and sent when the network is back.", "warn"); }
  })();
})();
