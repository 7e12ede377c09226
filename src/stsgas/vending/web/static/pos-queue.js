// The POS's sale queue on the device (IndexedDB): each sale taken with no network
// is kept with its Idempotency-Key until the server has answered it. States:
// queued -> sending -> sold | refused (with the server's reason); a send whose
// answer is lost goes back to queued and is sent again with the same key, which
// the server answers with the same sale (never a second one).
"use strict";
window.PosQueue = (function () {
  const DB = "stsgas-pos";
  const STORE = "sales";
  let opened = null;

  function db() {
    if (!opened) {
      opened = new Promise((resolve, reject) => {
        const req = indexedDB.open(DB, 1);
        req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "key" });
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
    }
    return opened;
  }
  async function tx(mode, work) {
    const d = await db();
    return new Promise((resolve, reject) => {
      const t = d.transaction(STORE, mode);
      const out = work(t.objectStore(STORE));
      t.oncomplete = () => resolve(out && "result" in out ? out.result : undefined);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error);
    });
  }
  // Amounts are strings ("12.50") and integers of minor units: never floats.
  function toMinor(amount, decimals) {
    const [whole, frac = ""] = amount.split(".");
    if (frac.length > decimals) return null;
    return parseInt(whole, 10) * 10 ** decimals + parseInt((frac + "0".repeat(decimals)).slice(0, decimals) || "0", 10);
  }
  function fromMinor(minor, decimals) {
    if (decimals === 0) return String(minor);
    const s = String(minor).padStart(decimals + 1, "0");
    return `${s.slice(0, -decimals)}.${s.slice(-decimals)}`;
  }
  return {
    all: () => tx("readonly", (s) => s.getAll()).then((items) => items.sort((a, b) => a.created.localeCompare(b.created))),
    put: (item) => tx("readwrite", (s) => s.put(item)),
    remove: (key) => tx("readwrite", (s) => s.delete(key)),
    isOpen: (item) => item.state === "queued" || item.state === "sending",
    toMinor,
    fromMinor,
  };
})();
