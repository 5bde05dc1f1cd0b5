// xnn live explorer: draw a digit, see the prediction and its explanations.
//
// One ES module (no build step) for two hosts:
//   * the Jupyter widget (anywidget): `export default { render }`, talking
//     to Python through the widget's custom messages;
//   * the standalone page of `python -m xnn explore`: `mount(el,
//     httpTransport("/api"))`, talking to Python with JSON over HTTP POST.
// A transport is `{ request(message) -> Promise<answer>, close() }`.
//
// The page sends the raw drawing (uint8 alpha of the ink canvas, base64);
// Python preprocesses it, runs the model and the explanations, and answers
// with float32 arrays in base64. `LatestOnly` keeps at most one request in
// flight: while one is out, only the latest state is kept, and it is sent
// when the answer arrives.

// ------------------------------------------------------------ transports
export function httpTransport(url) {
  return {
    async request(message) {
      const r = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(message),
      });
      const answer = await r.json();
      if (answer.kind === "error") throw new Error(answer.message);
      return answer;
    },
    close() {},
  };
}

export function widgetTransport(model) {
  let next = 0;
  const pending = new Map();
  const onMessage = (msg) => {
    if (!msg || msg.id == null || !pending.has(msg.id)) return;
    const p = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.kind === "error") p.reject(new Error(msg.message));
    else p.resolve(msg);
  };
  model.on("msg:custom", onMessage);
  return {
    request(message) {
      const id = ++next;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        model.send({ ...message, id });
      });
    },
    close() {
      model.off("msg:custom", onMessage);
      for (const p of pending.values()) p.reject(new Error("closed"));
      pending.clear();
    },
  };
}

// ------------------------------------------------------------ throttle
// At most one request in flight. push(state) sends at once when idle;
// while busy it only remembers the latest state (a value, or a function
// called when it is sent), replacing any older one.
export class LatestOnly {
  constructor(send, onAnswer, onError) {
    this.send = send;
    this.onAnswer = onAnswer || (() => {});
    this.onError = onError || (() => {});
    this.busy = false;
    this.pending = null;
    this.hasPending = false;
    this.sent = 0;
    this.replaced = 0;
  }
  push(state) {
    if (this.busy) {
      if (this.hasPending) this.replaced++;
      this.pending = state;
      this.hasPending = true;
      return;
    }
    this._run(state);
  }
  _run(state) {
    this.busy = true;
    this.sent++;
    let p;
    try {
      p = Promise.resolve(this.send(typeof state === "function" ? state() : state));
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then((a) => this.onAnswer(a), (e) => this.onError(e)).finally(() => {
      this.busy = false;
      if (this.hasPending) {
        const s = this.pending;
        this.pending = null;
        this.hasPending = false;
        this._run(s);
      }
    });
  }
}

// ------------------------------------------------------------ helpers
function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export function f32FromBase64(s) {
  const bin = atob(s);
  const u8 = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
  return new Float32Array(u8.buffer);
}

export function base64FromBytes(u8) {
  let s = "";
  for (let i = 0; i < u8.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function fmt(v) {
  if (!isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a >= 1000 || a < 0.01) return v.toExponential(1);
  return v.toPrecision(a >= 10 ? 3 : 2);
}

// paint values (length w*h) into canvas c through a 256-colour LUT
// (flat RGB); t(v) maps a value to [0, 1].
function paint(c, values, w, h, lut, t) {
  if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
  const ctx = c.getContext("2d");
  const img = ctx.createImageData(w, h);
  const d = img.data;
  for (let i = 0; i < w * h; i++) {
    if (values[i] !== values[i]) {   // NaN: a gap, white
      d[4 * i] = d[4 * i + 1] = d[4 * i + 2] = d[4 * i + 3] = 255;
      continue;
    }
    let k = Math.round(t(values[i]) * 255);
    k = k < 0 ? 0 : k > 255 ? 255 : k;
    d[4 * i] = lut[3 * k]; d[4 * i + 1] = lut[3 * k + 1]; d[4 * i + 2] = lut[3 * k + 2];
    d[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

function colourBar(lut, low, mid, high) {
  const c = h("canvas", { class: "xnn-cbar", width: 256, height: 1 });
  const ramp = new Float32Array(256).map((_, i) => i / 255);
  paint(c, ramp, 256, 1, lut, (v) => v);
  const labels = h("div", { class: "xnn-cbar-labels" },
    h("span", {}, low), h("span", {}, mid), h("span", {}, high));
  return { el: h("div", { class: "xnn-cbar-wrap" }, c, labels), labels };
}

// ------------------------------------------------------------ the explorer
const CANVAS = 280;

export async function mount(el, transport, options = {}) {
  const root = h("div", { class: "xnn-explorer" }, h("div", { class: "xnn-loading" }, "loading…"));
  el.append(root);
  // for tests and benchmarks: the last answer, the time from each edit's
  // end (a stroke's release, undo, clear, ...) to its answer painted, the
  // per-request round trip and Python's share
  const api = { last: null, latencies: [], errors: [], root, stats: { rtt: [], python: [] } };
  root.xnn = api;
  let cfg;
  try {
    cfg = await transport.request({ kind: "config" });
  } catch (e) {
    root.replaceChildren(h("div", { class: "xnn-error" }, `explorer: ${e.message}`));
    api.errors.push(e.message);
    return { destroy() { root.remove(); }, api };
  }
  api.config = cfg;
  const [H, W] = cfg.shape;
  const cm = cfg.colormaps;
  const state = {
    strokes: [], brush: options.brush || 18, base: null, target: null, edit: 0,
    methods: new Set(cfg.methods.map((m) => m.name)), lrp: "epsilon",
    strokeEnd: null, sentAt: new Map(),
  };

  // ---------------- drawing
  const bg = h("canvas", { class: "xnn-bg", width: CANVAS, height: CANVAS });
  const ink = h("canvas", { class: "xnn-ink", width: CANVAS, height: CANVAS });
  const inkCtx = ink.getContext("2d", { willReadFrequently: true });
  const bgCtx = bg.getContext("2d");
  let baseImage = null;   // Float32Array of the data set's row under the drawing

  function drawBackground() {
    bgCtx.fillStyle = "#000";
    bgCtx.fillRect(0, 0, CANVAS, CANVAS);
    if (baseImage) {
      const small = h("canvas", { width: W, height: H });
      paint(small, baseImage, W, H, cm.gray, (v) => v / cfg.value_max);
      bgCtx.imageSmoothingEnabled = false;
      bgCtx.globalAlpha = 0.85;
      bgCtx.drawImage(small, 0, 0, CANVAS, CANVAS);
      bgCtx.globalAlpha = 1;
    }
  }
  function strokeSegment(s, i) {
    const [x0, y0] = s.points[Math.max(0, i - 1)];
    const [x1, y1] = s.points[i];
    inkCtx.strokeStyle = "#fff";
    inkCtx.fillStyle = "#fff";
    inkCtx.lineWidth = s.size;
    inkCtx.lineCap = "round";
    inkCtx.lineJoin = "round";
    if (i === 0) {
      inkCtx.beginPath();
      inkCtx.arc(x1, y1, s.size / 2, 0, 2 * Math.PI);
      inkCtx.fill();
    } else {
      inkCtx.beginPath();
      inkCtx.moveTo(x0, y0);
      inkCtx.lineTo(x1, y1);
      inkCtx.stroke();
    }
  }
  function redraw() {
    inkCtx.clearRect(0, 0, CANVAS, CANVAS);
    for (const s of state.strokes) for (let i = 0; i < s.points.length; i++) strokeSegment(s, i);
  }
  function position(e) {
    const r = ink.getBoundingClientRect();
    return [(e.clientX - r.left) * CANVAS / r.width, (e.clientY - r.top) * CANVAS / r.height];
  }
  let drawing = null;
  ink.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    ink.setPointerCapture(e.pointerId);
    drawing = { size: state.brush, points: [position(e)] };
    state.strokes.push(drawing);
    strokeSegment(drawing, 0);
    changed();
  });
  ink.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    e.preventDefault();
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    for (const ev of events.length ? events : [e]) {
      drawing.points.push(position(ev));
      strokeSegment(drawing, drawing.points.length - 1);
    }
    changed();
  });
  const endStroke = (e) => {
    if (!drawing) return;
    drawing = null;
    changed("stroke");
  };
  ink.addEventListener("pointerup", endStroke);
  ink.addEventListener("pointercancel", endStroke);

  const brush = h("input", {
    type: "range", min: 4, max: 40, value: state.brush, class: "xnn-brush",
    oninput: (e) => { state.brush = +e.target.value; },
  });
  const undo = h("button", {
    class: "xnn-undo", title: "remove the last stroke",
    onclick: () => { state.strokes.pop(); redraw(); changed("undo"); },
  }, "Undo");
  const clear = h("button", {
    class: "xnn-clear", title: "remove every stroke",
    onclick: () => { state.strokes = []; redraw(); changed("clear"); },
  }, "Clear");
  const sees = h("canvas", { class: "xnn-sees", width: W, height: H });
  const predBig = h("div", { class: "xnn-pred-big" }, "–");
  const drawPanel = h("div", { class: "xnn-panel xnn-draw" },
    h("div", { class: "xnn-title" }, "Draw a digit"),
    h("div", { class: "xnn-canvas-wrap" }, bg, ink),
    h("div", { class: "xnn-tools" },
      h("label", {}, "brush ", brush), undo, clear),
    h("div", { class: "xnn-sees-row" },
      h("div", {}, h("div", { class: "xnn-sub" }, `the model sees (${W}×${H})`), sees),
      h("div", {}, h("div", { class: "xnn-sub" }, "prediction"), predBig)),
    h("div", { class: "xnn-note" },
      `preprocessing: ${cfg.preprocess}${cfg.preprocess === "mnist" ? " (crop, fit 20×20, centre of mass)" : cfg.preprocess === "digits" ? " (32×32 bitmap, 4×4 block counts 0–16)" : ""}`));

  // ---------------- data set browser
  let dataPanel = null;
  let slider, onlyWrong, dataInfo;
  if (cfg.data) {
    const wrong = cfg.data.misclassified;
    const rows = () => (onlyWrong.checked ? wrong : null);
    const index = () => {
      const r = rows();
      return r ? r[+slider.value] : +slider.value;
    };
    const resetSlider = () => {
      const r = rows();
      slider.max = String(Math.max(0, (r ? r.length : cfg.data.n) - 1));
      slider.value = "0";
      slider.disabled = r !== null && r.length === 0;
    };
    slider = h("input", {
      type: "range", min: 0, max: cfg.data.n - 1, value: 0, class: "xnn-slider",
      oninput: () => pick(index()),
    });
    onlyWrong = h("input", {
      type: "checkbox", class: "xnn-only-wrong", disabled: !cfg.data.labels,
      onchange: () => { resetSlider(); if (!slider.disabled) pick(index()); },
    });
    dataInfo = h("div", { class: "xnn-data-info" }, `${cfg.data.n} images`);
    dataPanel = h("div", { class: "xnn-panel xnn-data" },
      h("div", { class: "xnn-title" }, "Data set"),
      slider,
      h("label", { class: "xnn-check" }, onlyWrong,
        ` only misclassified (${cfg.data.labels ? wrong.length : "no labels"})`),
      dataInfo,
      h("div", { class: "xnn-tools" },
        h("button", { onclick: () => pick(index()) }, "Show"),
        h("button", { onclick: () => pick(null) }, "Blank canvas")),
      h("div", { class: "xnn-note" }, "strokes drawn over an image are added to it"));
  }
  function pick(i) {
    state.base = i;
    state.strokes = [];
    baseImage = null;
    redraw();
    drawBackground();
    if (i === null && dataInfo) dataInfo.textContent = `${cfg.data.n} images`;
    changed("sample");
  }

  // ---------------- prediction bars
  const bars = cfg.classes.map((name, k) => {
    const fill = h("div", { class: "xnn-bar-fill" });
    const val = h("span", { class: "xnn-bar-val" }, "");
    const row = h("div", {
      class: "xnn-bar", "data-class": k, title: `explain class ${name}`,
      onclick: () => { state.target = state.target === k ? null : k; changed("target"); },
    }, h("span", { class: "xnn-bar-name" }, name),
    h("div", { class: "xnn-bar-track" }, fill), val);
    return { row, fill, val };
  });
  const targetNote = h("div", { class: "xnn-note xnn-target-note" }, "");
  const barsPanel = h("div", { class: "xnn-panel xnn-bars" },
    h("div", { class: "xnn-title" }, cfg.output === "probability" ? "Class probabilities" : "Outputs"),
    bars.map((b) => b.row), targetNote);

  // ---------------- explanation maps
  const cards = new Map();
  const lrpSelect = h("select", {
    class: "xnn-lrp", title: "LRP rule or composite",
    onchange: (e) => { state.lrp = e.target.value; changed("lrp"); },
  }, cfg.lrp.map((r) => h("option", { value: r.key }, r.label)));
  const toggles = h("div", { class: "xnn-toggles" });
  const grid = h("div", { class: "xnn-maps" });
  for (const m of cfg.methods) {
    const canvas = h("canvas", { class: "xnn-map", width: W, height: H, "data-method": m.name });
    const bar = colourBar(cm.diverging, "", "0", "");
    const time = h("span", { class: "xnn-ms" }, "");
    const head = h("div", { class: "xnn-card-head" }, h("span", { class: "xnn-card-title" }, m.label));
    const detail = m.name === "lrp" ? lrpSelect : h("div", { class: "xnn-card-detail" }, m.detail);
    const card = h("div", { class: "xnn-card", title: m.description, "data-method": m.name },
      head, detail, canvas, bar.el, time);
    cards.set(m.name, { card, canvas, labels: bar.labels, time });
    grid.append(card);
    const box = h("input", {
      type: "checkbox", checked: true,
      onchange: (e) => {
        if (e.target.checked) state.methods.add(m.name); else state.methods.delete(m.name);
        card.style.display = e.target.checked ? "" : "none";
        changed("methods");
      },
    });
    toggles.append(h("label", { class: "xnn-check" }, box, " " + m.label));
  }
  const mapsPanel = h("div", { class: "xnn-panel xnn-explain" },
    h("div", { class: "xnn-title" }, "Explanations ", h("span", { class: "xnn-explaining" }, "")),
    toggles, grid,
    h("div", { class: "xnn-note" },
      "blue: against the class, red: for it (saliency is ≥ 0); each map's colour scale is symmetric around 0, ±its largest |value|"));

  // ---------------- activations
  const actRows = h("div", { class: "xnn-acts" });
  const actInput = h("canvas", { class: "xnn-act-input", width: W, height: H });
  const actStrips = cfg.layers.map((ly, i) => {
    const c = h("canvas", { class: "xnn-strip", width: ly.units || 1, height: 1 });
    const range = h("span", { class: "xnn-strip-range" }, "");
    const last = i === cfg.layers.length - 1;
    const what = ly.units ? `${ly.units} ${ly.activation}` : `${ly.type} ${ly.activation}`;
    actRows.append(h("div", { class: "xnn-strip-row" },
      h("span", { class: "xnn-strip-name" }, `${last ? "output" : "layer " + (i + 1)}: ${what}`),
      c, range));
    return { c, range };
  });
  // (C, H, W) feature maps tiled into a grid of channels, one pixel apart
  function tile(v, shape) {
    const [C, hh, ww] = shape;
    const cols = Math.ceil(Math.sqrt(C)), rows = Math.ceil(C / cols);
    const W2 = cols * (ww + 1) - 1, H2 = rows * (hh + 1) - 1;
    const out = new Float32Array(W2 * H2).fill(NaN);
    for (let c = 0; c < C; c++) {
      const r0 = Math.floor(c / cols) * (hh + 1), c0 = (c % cols) * (ww + 1);
      for (let y = 0; y < hh; y++) {
        for (let x = 0; x < ww; x++) out[(r0 + y) * W2 + c0 + x] = v[(c * hh + y) * ww + x];
      }
    }
    return [out, W2, H2];
  }
  const actsPanel = h("div", { class: "xnn-panel xnn-activations" },
    h("div", { class: "xnn-title" }, "Activations"),
    h("div", { class: "xnn-act-layout" },
      h("div", {}, h("div", { class: "xnn-sub" }, "input"), actInput), actRows),
    h("div", { class: "xnn-note" }, "one cell per unit; viridis from 0 to the layer's largest value (blue–red around 0 when negative)"));

  const status = h("div", { class: "xnn-status" }, "");
  root.replaceChildren(
    h("div", { class: "xnn-header" },
      h("span", { class: "xnn-name" }, "xnn explorer"),
      h("span", { class: "xnn-model" }, `model ${cfg.model} · ${cfg.layers.length} layers`),
      status),
    h("div", { class: "xnn-body" },
      h("div", { class: "xnn-col xnn-left" }, drawPanel, dataPanel),
      h("div", { class: "xnn-col xnn-right" },
        h("div", { class: "xnn-row" }, barsPanel, actsPanel), mapsPanel)));
  drawBackground();

  // ---------------- talking to Python
  // the canvas's ink is sent as the rectangle that holds every stroke
  // (each point widened by its brush and a pixel of antialiasing), with
  // its place on the canvas: Python puts it back on an empty canvas
  function inkBox() {
    let x0 = CANVAS, y0 = CANVAS, x1 = 0, y1 = 0;
    for (const s of state.strokes) {
      const r = s.size / 2 + 2;
      for (const [x, y] of s.points) {
        x0 = Math.min(x0, x - r); y0 = Math.min(y0, y - r);
        x1 = Math.max(x1, x + r); y1 = Math.max(y1, y + r);
      }
    }
    x0 = Math.max(0, Math.floor(x0)); y0 = Math.max(0, Math.floor(y0));
    x1 = Math.min(CANVAS, Math.ceil(x1)); y1 = Math.min(CANVAS, Math.ceil(y1));
    return x1 > x0 && y1 > y0 ? [x0, y0, x1 - x0, y1 - y0] : null;
  }
  function message() {
    const seq = state.edit;
    state.sentAt.set(seq, performance.now());
    const msg = {
      kind: "update", seq, base: state.base, target: state.target,
      methods: cfg.methods.map((m) => m.name).filter((n) => state.methods.has(n)),
      lrp: state.lrp,
    };
    const box = state.strokes.length ? inkBox() : null;
    if (box) {
      const [left, top, w, hgt] = box;
      const d = inkCtx.getImageData(left, top, w, hgt).data;
      const bytes = new Uint8Array(w * hgt);
      for (let i = 0; i < bytes.length; i++) bytes[i] = d[4 * i + 3];
      Object.assign(msg, { bitmap: base64FromBytes(bytes), width: w, height: hgt, left, top,
                           canvas: [CANVAS, CANVAS] });
    }
    return msg;
  }
  const throttle = new LatestOnly((msg) => transport.request(msg), show, (e) => {
    status.textContent = `error: ${e.message}`;
    status.classList.add("xnn-bad");
    api.errors.push(e.message);
  });
  api.throttle = throttle;
  // every change of what is shown; `what` names a finished edit, whose
  // time to the painted answer is recorded
  function changed(what = null) {
    state.edit++;
    if (what) state.strokeEnd = { edit: state.edit, t: performance.now(), what };
    throttle.push(message);
  }

  function show(r) {
    api.last = r;
    status.classList.remove("xnn-bad");
    const t0 = state.sentAt.get(r.seq);
    for (const k of state.sentAt.keys()) if (k <= r.seq) state.sentAt.delete(k);
    const img = f32FromBase64(r.image);
    paint(sees, img, W, H, cm.gray, (v) => v / cfg.value_max);
    paint(actInput, img, W, H, cm.gray, (v) => v / cfg.value_max);
    if (r.base) {
      if (state.base === r.base.index && !baseImage) {
        baseImage = f32FromBase64(r.base.image);
        drawBackground();
      }
      if (dataInfo) {
        const label = r.base.label === null ? "" : `true ${cfg.classes[r.base.label]} · `;
        dataInfo.textContent = `#${r.base.index} of ${cfg.data.n}: ${label}predicted ${cfg.classes[r.base.pred]}` +
          (state.strokes.length ? " (before your strokes)" : "");
      }
    }
    r.proba.forEach((p, k) => {
      const b = bars[k];
      b.fill.style.width = `${Math.max(0, Math.min(1, p)) * 100}%`;
      b.val.textContent = cfg.output === "probability" ? `${(p * 100).toFixed(1)}%` : fmt(p);
      b.row.classList.toggle("xnn-pred", k === r.pred);
      b.row.classList.toggle("xnn-target", k === r.target && state.target !== null);
    });
    const pv = r.proba[r.pred];
    predBig.textContent = cfg.classes[r.pred];
    predBig.title = cfg.output === "probability" ? `${(pv * 100).toFixed(1)}%` : fmt(pv);
    const who = state.target === null ? "predicted" : "chosen";
    root.querySelector(".xnn-explaining").textContent = `of class ${cfg.classes[r.target]} (${who})`;
    targetNote.textContent = state.target === null
      ? "click a class to explain it instead of the prediction"
      : `explaining class ${cfg.classes[r.target]}; click it again for the prediction`;
    for (const m of r.maps) {
      const card = cards.get(m.name);
      if (!card) continue;
      const v = f32FromBase64(m.data);
      const lim = m.limit > 0 ? m.limit : 1;
      paint(card.canvas, v, W, H, cm.diverging, (x) => 0.5 + 0.5 * x / lim);
      card.labels.children[0].textContent = fmt(-m.limit);
      card.labels.children[2].textContent = fmt(m.limit);
      card.time.textContent = `computed in ${m.ms.toFixed(2)} ms`;
    }
    r.activations.forEach((a, i) => {
      const s = actStrips[i];
      if (!s) return;
      let v = f32FromBase64(a.data), w = v.length, hgt = 1;
      if (a.shape && a.shape.length === 3) {
        [v, w, hgt] = tile(v, a.shape);
        s.c.classList.add("xnn-fmaps");
      }
      if (a.min < 0) {
        const lim = Math.max(-a.min, a.max) || 1;
        paint(s.c, v, w, hgt, cm.diverging, (x) => 0.5 + 0.5 * x / lim);
      } else {
        const hi = a.max > 0 ? a.max : 1;
        paint(s.c, v, w, hgt, cm.sequential, (x) => x / hi);
      }
      s.range.textContent = `${fmt(a.min)} … ${fmt(a.max)}`;
    });
    const now = performance.now();
    const rtt = t0 === undefined ? NaN : now - t0;
    status.textContent = `python ${r.ms.total.toFixed(1)} ms · round trip ${rtt.toFixed(1)} ms`;
    api.stats.rtt.push(rtt);
    api.stats.python.push(r.ms.total);
    if (state.strokeEnd && r.seq >= state.strokeEnd.edit) {
      api.latencies.push({ what: state.strokeEnd.what, ms: now - state.strokeEnd.t });
      state.strokeEnd = null;
    }
    root.dataset.seq = String(r.seq);
    root.dataset.pred = String(r.pred);
  }

  changed("start");   // the blank canvas's answer, so nothing is empty
  api.state = state;
  return {
    api,
    destroy() { transport.close(); root.remove(); },
  };
}

// ------------------------------------------------------------ anywidget
export default {
  render({ model, el }) {
    const transport = widgetTransport(model);
    const ready = mount(el, transport);
    return () => { ready.then((c) => c.destroy()); };
  },
};
