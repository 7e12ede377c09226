// A stand-in for navigator.bluetooth (Web Bluetooth): one thermal printer with the
// 0x18F0 service and its 0x2AF1 write characteristic; every write is recorded in
// window.__printed (one array of byte values per write).
(() => {
  const writes = [];
  window.__printed = writes;
  window.__asked = [];
  const characteristic = {
    uuid: 0x2af1,
    writeValueWithResponse: async (data) => { writes.push(Array.from(new Uint8Array(data.buffer || data, data.byteOffset || 0, data.byteLength))); },
  };
  const service = { getCharacteristic: async (id) => { if (id !== 0x2af1) throw new Error(`no characteristic ${id}`); return characteristic; } };
  const gatt = {
    connected: false,
    connect: async () => { gatt.connected = true; return server; },
    disconnect: () => { gatt.connected = false; },
  };
  const server = { getPrimaryService: async (id) => { if (id !== 0x18f0) throw new Error(`no service ${id}`); return service; } };
  const device = { name: "Fake printer", gatt };
  Object.defineProperty(navigator, "bluetooth", {
    configurable: true,
    value: { requestDevice: async (options) => { window.__asked.push(options); return device; } },
  });
})();
