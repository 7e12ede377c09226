// The virtual meter's page: draws what the meter shows, sends what the person does.
// Every URL is relative, so the page works at /meter/ beside the console and at / alone.
"use strict";

const $ = (id) => document.getElementById(id);
let current = null;     // the meter shown (its DRN)
let lastBeeps = null;   // the buzzer count last drawn: a new count beeps
let audio = null;

function problem(text) {
  $("problem").textContent = text;
  $("problem").hidden = false;
}

// one request; null (and the problem shown) when it fails
async function call(path, body) {
  const init = body === undefined ? {} : {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
  };
  let r, doc;
  try {
    r = await fetch(path, init);
    doc = await r.json();
  } catch (e) {
    problem(`the meter server does not answer (${r ? r.status : "no connection"})`);
    return null;
  }
  if (!r.ok) {
    problem(`${doc.code}: ${doc.detail}`);
    return null;
  }
  if (body !== undefined || $("problem").textContent.startsWith("the meter server")) {
    $("problem").hidden = true;  // a poll leaves a refused action's problem shown
  }
  return doc;
}

let queue = Promise.resolve(null);  // one request at a time: keys reach the meter in order
let waiting = 0;                    // requests in the queue (the poll waits its turn)

// act("") reads the meter (its due timers fire); act("flow", {...}) posts an action
function act(what, body) {
  waiting += 1;
  const run = () => {
    waiting -= 1;
    if (current === null) return null;
    const path = what === "" ? `api/meters/${current}` : `api/meters/${current}/${what}`;
    return call(path, body).then((s) => { if (s) draw(s); return s; });
  };
  queue = queue.then(run, run);
  return queue;
}

function beep(pattern) {
  if (!$("sound").checked) return;
  try {
    audio = audio || new AudioContext();
    const tones = {accept: [880, 1320], reject: [300, 200], alarm: [1000, 600, 1000], key: [1500], test: [700, 900, 1100]};
    let t = audio.currentTime;
    for (const f of tones[pattern] || [1000]) {
      const o = audio.createOscillator();
      const g = audio.createGain();
      o.frequency.value = f;
      g.gain.value = 0.08;
      o.connect(g).connect(audio.destination);
      const len = pattern === "key" ? 0.04 : 0.15;
      o.start(t);
      o.stop(t + len);
      t += len + 0.05;
    }
  } catch (e) { /* no audio: the buzzer LED still shows it */ }
}

function draw(s) {
  $("meter-number").textContent = s.id;
  $("meter-mode").textContent = s.mode === "volume" ? "(volume, m³)" : "(amount, money)";
  $("lcd").textContent = s.power ? s.lcd : "";
  $("led-alarm").classList.toggle("on", s.leds.alarm);
  $("led-valve").classList.toggle("on", s.leds.valve);
  $("valve").textContent = s.valve.open ? "open" : `closed (${s.valve.reason})`;
  $("credit").textContent = s.mode === "volume" ? `${s.credit} m³` : s.credit;
  $("alarms").textContent = s.alarms.length ? s.alarms.join(", ") : "none";
  $("battery").textContent = `${s.battery_v} V`;
  $("clock").textContent = s.clock + (s.ahead_hours ? ` (+${s.ahead_hours} h)` : "");
  if (document.activeElement !== $("volts")) $("volts").value = s.battery_v;
  $("magnet").checked = s.magnet;
  $("power").checked = s.power;
  $("log").textContent = s.log.join("\n");
  const buzzer = $("buzzer");
  if (lastBeeps !== null && s.buzzer.count > lastBeeps) {
    const pattern = s.buzzer.pattern || "key";
    buzzer.textContent = `buzzer: ${pattern}`;
    buzzer.classList.add("on");
    beep(pattern);
    setTimeout(() => { buzzer.classList.remove("on"); buzzer.textContent = "buzzer"; }, 700);
  }
  lastBeeps = s.buzzer.count;
}

function show(drn) {
  current = drn;
  lastBeeps = null;
  history.replaceState(null, "", `#${drn}`);
  for (const b of $("meters").querySelectorAll("button")) {
    b.setAttribute("aria-pressed", String(b.dataset.meter === drn));
  }
  return act("", undefined).catch(() => {});
}

function press(keys) { return act("keys", {keys}); }

async function start() {
  const list = await call("api/meters");
  const codes = await call("api/codes");
  if (!list) return;
  for (const m of list.meters) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.meter = m.id;
    b.textContent = `${m.id} (${m.mode})`;
    b.addEventListener("click", () => show(m.id));
    $("meters").append(b);
  }
  for (const [code, what] of (codes ? codes.codes : [])) {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = `${code} ${what}`;
    b.addEventListener("click", () => press(`${code}#`));
    li.append(b);
    $("codes").append(li);
  }
  const wanted = location.hash.slice(1);
  const ids = list.meters.map((m) => m.id);
  if (ids.length) await show(ids.includes(wanted) ? wanted : ids[0]);
  setInterval(() => {  // the meter's timers fire, and what another tab did shows
    if (waiting === 0) act("", undefined).catch(() => {});
  }, 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  for (const b of document.querySelectorAll("[data-key]")) {
    b.addEventListener("click", () => press(b.dataset.key));
  }
  for (const b of document.querySelectorAll("[data-flow]")) {
    b.addEventListener("click", () => act("flow", {litres: Number(b.dataset.flow)}));
  }
  for (const b of document.querySelectorAll("[data-advance]")) {
    b.addEventListener("click", () => act("advance", {hours: Number(b.dataset.advance)}));
  }
  $("draw").addEventListener("click", () => act("flow", {litres: Number($("litres").value)}));
  $("set-volts").addEventListener("click", () => act("battery", {volts: $("volts").value}));
  $("new-battery").addEventListener("click", () => act("battery/replace", {}));
  $("magnet").addEventListener("change", (e) => act("magnet", {present: e.target.checked}));
  $("power").addEventListener("change", (e) => act("power", {on: e.target.checked}));
  $("open-key").addEventListener("click", () => act("open-key", {}));
  document.addEventListener("keydown", (e) => {
    if (e.target instanceof HTMLInputElement || e.ctrlKey || e.metaKey || e.altKey) return;
    const key = e.key === "Enter" ? "#" : e.key === "Backspace" ? "*" : e.key === "Escape" ? "C" : e.key;
    if (/^[0-9#*]$/.test(key) || key === "C") { e.preventDefault(); press(key); }
  });
  start();
});
