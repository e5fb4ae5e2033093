// The simulated terminal's page: shows the screen live (Server-Sent Events,
// or polling /sim/state every 500 ms when they fail) and sends key presses.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const screen = $("screen"), led = $("led"), beep = $("beep"), conn = $("conn"), error = $("error");

  // Screen: the image follows the display's version; loadedVersion is the
  // version the <img> shows once loaded.
  let version = -1, wantVersion = -1, loadedVersion = -1;
  screen.addEventListener("load", () => {
    loadedVersion = wantVersion;
    const w = screen.naturalWidth, h = screen.naturalHeight;
    const scale = Math.max(1, Math.floor(Math.min(640 / w, 480 / h)));
    screen.style.width = w * scale + "px";
    screen.style.height = h * scale + "px";
  });
  function showScreen(v) {
    if (v === version) return;
    version = v;
    wantVersion = v;
    screen.src = "/sim/screen.png?v=" + v;
  }

  const beeps = {
    key: "click",
    accepted: "beep! \u2714 accepted",
    rejected: "beeeeep \u2718 rejected",
    attention: "beep-beep ! attention",
  };
  let signalSeq = 0;
  function showSignal(name, seq) {
    if (!name || seq <= signalSeq) return;
    signalSeq = seq;
    led.className = "led " + name;
    led.dataset.signal = name;
    beep.textContent = beeps[name] || name;
    beep.classList.remove("flash");
    void beep.offsetWidth; // restart the animation
    beep.classList.add("flash");
  }

  // Printer: the paper shows the receipts printed, newest on top; the
  // switches set paper out, paper low, cover open and unplugged.
  const paper = $("paper"), printerState = $("printer-state");
  const switches = ["paperOut", "paperLow", "coverOpen", "gone"];
  let printerVersion = -1;
  async function showPrinter(v) {
    if (v === printerVersion) return;
    printerVersion = v;
    let p;
    try {
      const r = await fetch("/sim/printer", { cache: "no-store" });
      if (!r.ok) return;
      p = await r.json();
    } catch (e) { return; }
    for (const k of switches) $("sw-" + k).checked = p.state[k];
    const s = p.state;
    printerState.textContent = s.gone ? "unplugged" : s.coverOpen ? "cover open" : s.paperOut ? "paper out"
      : s.paperLow ? "paper low" : "ready";
    printerState.dataset.state = printerState.textContent;
    paper.style.setProperty("--cols", p.columns);
    paper.replaceChildren();
    for (const rc of p.receipts.slice().reverse()) {
      const div = document.createElement("div");
      div.className = "receipt";
      div.dataset.seq = rc.seq;
      rc.lines.forEach((l, i) => {
        if (l.qr) {
          const img = document.createElement("img");
          img.className = "qr";
          img.alt = l.qr;
          img.src = `/sim/printer/qr/${rc.seq}/${i}`;
          div.append(img);
          return;
        }
        const line = document.createElement("div");
        line.className = "line" + (l.bold ? " bold" : "") + (l.large ? " large" : "") + (l.align ? " " + l.align : "");
        line.textContent = l.text;
        div.append(line);
      });
      paper.append(div);
    }
  }
  for (const k of switches) {
    $("sw-" + k).addEventListener("change", async () => {
      const body = {};
      for (const s of switches) body[s] = $("sw-" + s).checked;
      const r = await fetch("/sim/printer", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      error.textContent = r.ok ? "" : `printer: ${r.status} ${(await r.text()).trim()}`;
    });
  }

  function applyState(st) {
    showScreen(st.version);
    showSignal(st.signal, st.signalSeq);
    showPrinter(st.printerVersion);
    $("scanner-path").textContent = st.scanner;
  }
  async function pollState() {
    try {
      const r = await fetch("/sim/state", { cache: "no-store" });
      if (r.ok) applyState(await r.json());
    } catch (e) { /* the terminal is down; keep trying */ }
  }

  // Live updates: SSE, with polling while the stream is down.
  let poller = null;
  function setConn(s) { conn.textContent = s; conn.dataset.mode = s; }
  function startPolling() {
    setConn("polling");
    if (poller === null) poller = setInterval(pollState, 500);
  }
  function stopPolling() {
    if (poller !== null) clearInterval(poller);
    poller = null;
  }
  const q = new URLSearchParams(location.search);
  function connect() {
    // ?sse=0 tries the fallback.
    if (!window.EventSource || q.get("sse") === "0") { startPolling(); return; }
    const es = new EventSource("/sim/events");
    es.addEventListener("open", () => { stopPolling(); setConn("live"); });
    es.addEventListener("screen", (e) => showScreen(JSON.parse(e.data).version));
    es.addEventListener("signal", (e) => { const s = JSON.parse(e.data); showSignal(s.signal, s.seq); });
    es.addEventListener("printer", (e) => showPrinter(JSON.parse(e.data).version));
    es.addEventListener("error", startPolling);
  }

  // Keys go out one at a time so that they arrive in the order pressed.
  let sending = Promise.resolve();
  function press(name) {
    const btn = document.querySelector(`#keypad [data-key="${CSS.escape(name)}"]`);
    if (btn) {
      btn.classList.add("down");
      setTimeout(() => btn.classList.remove("down"), 120);
    }
    const sent = sending.then(async () => {
      try {
        const r = await fetch("/sim/key", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ key: name }),
        });
        error.textContent = r.ok ? "" : `key ${name}: ${r.status} ${(await r.text()).trim()}`;
        return r.status;
      } catch (e) {
        error.textContent = `key ${name}: ${e}`;
        return 0;
      }
    });
    sending = sent;
    return sent;
  }
  const sent = []; // statuses of presses, for the self-test
  for (const btn of document.querySelectorAll("#keypad [data-key]")) {
    btn.addEventListener("click", () => sent.push(press(btn.dataset.key)));
  }

  const named = {
    Enter: "enter", Escape: "cancel", Backspace: "backspace", Delete: "clear",
    F1: "F1", F2: "F2", F3: "F3", F4: "F4", ".": ".", Decimal: ".",
  };
  document.addEventListener("keydown", (e) => {
    if (e.repeat || e.ctrlKey || e.metaKey || e.altKey) return;
    const name = /^[0-9]$/.test(e.key) ? e.key
      : e.code === "NumpadDecimal" ? "." : named[e.key];
    if (!name) return;
    e.preventDefault();
    sent.push(press(name));
  });

  pollState().then(connect);

  // ?selftest=1 makes the page test itself through its own DOM and publish
  // the result as window.selftest (a promise) and in #selftest-result.
  //   probe=x,y;x,y  screen pixels to read back (via a canvas)
  //   click=1,2,enter  buttons to click, in order
  //   wait=1  after the clicks, wait for a newer screen and probe again
  if (q.get("selftest") !== "1") return;

  const until = (cond, ms) => new Promise((resolve, reject) => {
    const t0 = performance.now();
    (function check() {
      if (cond()) return resolve();
      if (performance.now() - t0 > ms) return reject(new Error("timed out"));
      setTimeout(check, 20);
    })();
  });
  const points = (q.get("probe") || "").split(";").filter(Boolean).map((p) => p.split(",").map(Number));
  function probe() {
    const c = document.createElement("canvas");
    c.width = screen.naturalWidth;
    c.height = screen.naturalHeight;
    const g = c.getContext("2d");
    g.drawImage(screen, 0, 0);
    return points.map(([x, y]) => Array.from(g.getImageData(x, y, 1, 1).data));
  }
  async function selftest() {
    const res = { origin: location.origin };
    res.buttons = Array.from(document.querySelectorAll("#keypad [data-key]"),
      (b) => ({ key: b.dataset.key, id: b.id, text: b.textContent }));
    await until(() => version >= 0 && loadedVersion === version, 5000);
    res.screen = { width: screen.naturalWidth, height: screen.naturalHeight,
      shownWidth: screen.width, shownHeight: screen.height,
      rendering: getComputedStyle(screen).imageRendering };
    res.before = { version: loadedVersion, pixels: probe() };
    for (const k of (q.get("click") || "").split(",").filter(Boolean)) {
      document.querySelector(`#keypad [data-key="${CSS.escape(k)}"]`).click();
    }
    res.posts = await Promise.all(sent);
    if (q.get("wait") === "1") {
      const v0 = res.before.version;
      await until(() => version > v0 && loadedVersion === version, 5000);
      res.after = { version: loadedVersion, pixels: probe() };
    }
    res.conn = conn.dataset.mode;
    res.resources = performance.getEntriesByType("resource").map((e) => e.name);
    return res;
  }
  window.selftest = selftest().catch((e) => ({ error: String(e) }));
  window.selftest.then((res) => {
    const out = $("selftest-result");
    out.textContent = JSON.stringify(res);
    out.hidden = false;
  });
})();
