/* The sound map: every analysed sample of the library as a point, drawn with WebGL (twgl.js).
 *
 * Points come from /api/v1/map as [id, x, y, category, name] with x and y in 0..1. One draw
 * call renders them all, so panning and zooming stay smooth with 10,000 and more. Hovering a
 * point plays it through the page's player bar, a click opens it, the wheel (or +/-) zooms
 * around the pointer, a drag pans; the lasso (button, or Shift+drag) selects the points
 * inside the drawn outline, which "Add to collection" sends to the collections API.
 */
(function () {
  "use strict";

  var app = document.getElementById("sound-map-app");
  if (!app) { return; }
  var canvas = document.getElementById("sound-map");
  var overlay = document.getElementById("sound-map-overlay");
  var label = document.getElementById("sound-map-label");
  var status = document.getElementById("sound-map-status");
  var track = document.getElementById("sound-map-track");
  var lassoButton = document.getElementById("sound-map-lasso");
  var selection = document.getElementById("sound-map-selection");
  var added = document.getElementById("sound-map-added");
  var NO_ID = "00000000-0000-0000-0000-000000000000";
  var MAX_IDS_PER_REQUEST = 1000;  // library.api.serializers.SampleIdsSerializer

  // One colour per category of the analyser's vocabulary, readable on the dark and light themes.
  var COLOURS = {
    kick: "#ff6b6b", snare: "#ffa94d", clap: "#ffd43b", hihat: "#a9e34b", cymbal: "#69db7c",
    tom: "#38d9a9", percussion: "#3bc9db", bass: "#4dabf7", synth: "#748ffc", keys: "#9775fa",
    pad: "#da77f2", vocal: "#fcc2d7", fx: "#e8c07d", drum_loop: "#e64980", music_loop: "#1c7ed6",
    other: "#adb5bd",
  };
  function rgb(hex) {
    return [1, 3, 5].map(function (i) { return parseInt(hex.slice(i, i + 2), 16) / 255; });
  }
  function categoryLabel(category) {
    var words = String(category || "other").replace(/_/g, " ");
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  var gl = window.twgl && canvas.getContext("webgl", { antialias: true, alpha: true });
  if (!gl) {
    canvas.hidden = true;
    overlay.hidden = true;
    lassoButton.parentElement.hidden = true;
    document.getElementById("sound-map-fallback").hidden = false;
    app.dataset.webgl = "false";
    return;
  }
  app.dataset.webgl = "true";
  var ink = overlay.getContext("2d");

  var VERTEX = [
    "attribute vec2 position;",
    "attribute vec3 colour;",
    "attribute float selected;",
    "attribute float shown;",
    "uniform vec2 scale;",
    "uniform vec2 offset;",
    "uniform float size;",
    "uniform float anySelected;",
    "varying vec3 vColour;",
    "varying float vSelected;",
    "varying float vDimmed;",
    "void main() {",
    // A hidden category's points go outside the clip volume: not drawn at all.
    "  gl_Position = shown > 0.5 ? vec4(position * scale + offset, 0.0, 1.0) : vec4(2.0, 2.0, 2.0, 1.0);",
    "  gl_PointSize = selected > 0.5 ? size * 1.5 : size;",
    "  vColour = colour;",
    "  vSelected = selected;",
    "  vDimmed = anySelected > 0.5 && selected < 0.5 ? 1.0 : 0.0;",
    "}",
  ].join("\n");
  var FRAGMENT = [
    "precision mediump float;",
    "varying vec3 vColour;",
    "varying float vSelected;",
    "varying float vDimmed;",
    "uniform vec3 ring;",
    "void main() {",
    "  vec2 c = gl_PointCoord * 2.0 - 1.0;",
    "  float r = dot(c, c);",
    "  if (r > 1.0) discard;",
    "  float edge = 1.0 - smoothstep(0.75, 1.0, r);",
    "  vec3 colour = vSelected > 0.5 && r > 0.45 ? ring : vColour;",
    "  float alpha = vDimmed > 0.5 ? 0.35 : 0.9;",
    "  gl_FragColor = vec4(colour * alpha * edge, alpha * edge);",
    "}",
  ].join("\n");
  var program = twgl.createProgramInfo(gl, [VERTEX, FRAGMENT]);

  var points = [];
  var buffers = null;
  var selectedFlags = new Float32Array(0);
  var selectedCount = 0;
  var shownFlags = new Float32Array(0);
  var hiddenCategories = {};  // by the legend's buttons; outlives a redrawn map
  // The view: the data point at the canvas's centre and the zoom (1 shows the whole map).
  var view = { cx: 0.5, cy: 0.5, zoom: 1 };
  var PAD = 24;
  var hovered = -1;
  var frame = 0;

  // ------------------------------------------------------------------ geometry

  function box() { return canvas.getBoundingClientRect(); }
  function spans(rect) {
    return [(rect.width - 2 * PAD) * view.zoom, (rect.height - 2 * PAD) * view.zoom];
  }
  // Data (0..1, y up) -> CSS pixels in the canvas, and back.
  function toScreen(x, y, rect, s) {
    return [rect.width / 2 + (x - view.cx) * s[0], rect.height / 2 - (y - view.cy) * s[1]];
  }
  function toData(px, py, rect) {
    var s = spans(rect);
    return [view.cx + (px - rect.width / 2) / s[0], view.cy - (py - rect.height / 2) / s[1]];
  }

  function resize() {
    var rect = box();
    var ratio = window.devicePixelRatio || 1;
    [canvas, overlay].forEach(function (surface) {
      surface.width = Math.max(1, Math.round(rect.width * ratio));
      surface.height = Math.max(1, Math.round(rect.height * ratio));
    });
    ink.setTransform(ratio, 0, 0, ratio, 0, 0);
  }

  // ------------------------------------------------------------------ drawing

  function request() { if (!frame) { frame = window.requestAnimationFrame(draw); } }

  // Rings (hover, selection) in the theme's text colour: white on dark, near-black on light.
  function themeText() {
    var value = getComputedStyle(document.documentElement).getPropertyValue("--text").trim();
    return /^#[0-9a-f]{6}$/i.test(value) ? value : "#ffffff";
  }

  function baseSize() { return points.length > 20000 ? 3.5 : points.length > 2000 ? 5 : 8; }

  function draw() {
    frame = 0;
    app.dataset.zoom = view.zoom.toFixed(3);
    var rect = box();
    var ratio = window.devicePixelRatio || 1;
    gl.viewport(0, 0, canvas.width, canvas.height);
    gl.clearColor(0, 0, 0, 0);
    gl.clear(gl.COLOR_BUFFER_BIT);
    if (buffers && points.length) {
      var s = spans(rect);
      var scale = [2 * s[0] / rect.width, 2 * s[1] / rect.height];
      gl.enable(gl.BLEND);
      gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
      gl.useProgram(program.program);
      twgl.setBuffersAndAttributes(gl, program, buffers);
      twgl.setUniforms(program, {
        scale: scale,
        offset: [-view.cx * scale[0], -view.cy * scale[1]],
        // Points grow a little as the map is zoomed in, so dense clusters come apart.
        size: Math.min(16, baseSize() * Math.pow(view.zoom, 0.35)) * ratio,
        anySelected: selectedCount ? 1 : 0,
        ring: rgb(themeText()),
      });
      twgl.drawBufferInfo(gl, buffers, gl.POINTS);
    }
    drawOverlay(rect);
  }

  function drawOverlay(rect) {
    ink.clearRect(0, 0, rect.width, rect.height);
    if (hovered >= 0) {
      var p = points[hovered];
      var at = toScreen(p[1], p[2], rect, spans(rect));
      ink.strokeStyle = themeText();
      ink.lineWidth = 2;
      ink.beginPath();
      ink.arc(at[0], at[1], 8, 0, 2 * Math.PI);
      ink.stroke();
    }
    if (lasso && lasso.length > 1) {
      ink.strokeStyle = getComputedStyle(document.documentElement).getPropertyValue("--accent") || "#8fb0ff";
      ink.fillStyle = "rgba(143, 176, 255, 0.12)";
      ink.lineWidth = 1.5;
      ink.setLineDash([5, 4]);
      ink.beginPath();
      ink.moveTo(lasso[0][0], lasso[0][1]);
      for (var i = 1; i < lasso.length; i++) { ink.lineTo(lasso[i][0], lasso[i][1]); }
      ink.closePath();
      ink.fill();
      ink.stroke();
      ink.setLineDash([]);
    }
  }

  function upload() {
    var n = points.length;
    var position = new Float32Array(2 * n);
    var colour = new Float32Array(3 * n);
    points.forEach(function (p, i) {
      position[2 * i] = p[1];
      position[2 * i + 1] = p[2];
      var c = rgb(COLOURS[p[3]] || COLOURS.other);
      colour.set(c, 3 * i);
    });
    selectedFlags = new Float32Array(n);
    selectedCount = 0;
    shownFlags = new Float32Array(n);
    points.forEach(function (p, i) { shownFlags[i] = hiddenCategories[p[3]] ? 0 : 1; });
    buffers = twgl.createBufferInfoFromArrays(gl, {
      position: { numComponents: 2, data: position },
      colour: { numComponents: 3, data: colour },
      selected: { numComponents: 1, data: selectedFlags, drawType: gl.DYNAMIC_DRAW },
      shown: { numComponents: 1, data: shownFlags, drawType: gl.DYNAMIC_DRAW },
    });
    app.dataset.shown = String(shownFlags.reduce(function (sum, on) { return sum + on; }, 0));
  }

  // Shows or hides a category (its legend button); hidden sounds leave the selection too.
  function showCategory(category, on) {
    if (on) { delete hiddenCategories[category]; } else { hiddenCategories[category] = true; }
    var shown = 0;
    selectedCount = 0;
    points.forEach(function (p, i) {
      shownFlags[i] = hiddenCategories[p[3]] ? 0 : 1;
      if (!shownFlags[i]) { selectedFlags[i] = 0; }
      shown += shownFlags[i];
      selectedCount += selectedFlags[i];
    });
    twgl.setAttribInfoBufferFromArray(gl, buffers.attribs.shown, shownFlags);
    twgl.setAttribInfoBufferFromArray(gl, buffers.attribs.selected, selectedFlags);
    app.dataset.shown = String(shown);
    if (hovered >= 0 && !shownFlags[hovered]) { hover(-1); }
    showSelection();
    request();
  }

  // ------------------------------------------------------------------ hover, audition, open

  function nearest(px, py, rect) {
    var s = spans(rect);
    var best = -1;
    var bestDistance = 10 * 10;  // within 10 CSS pixels
    for (var i = 0; i < points.length; i++) {
      if (!shownFlags[i]) { continue; }
      var dx = rect.width / 2 + (points[i][1] - view.cx) * s[0] - px;
      var dy = rect.height / 2 - (points[i][2] - view.cy) * s[1] - py;
      var d = dx * dx + dy * dy;
      if (d < bestDistance) { best = i; bestDistance = d; }
    }
    return best;
  }

  function canPlay() {
    // Browsers play sound only after the person has used the page (a click, a key).
    return !navigator.userActivation || navigator.userActivation.hasBeenActive;
  }

  function hover(index) {
    if (index === hovered) { return; }
    hovered = index;
    app.dataset.hovered = index >= 0 ? points[index][0] : "";
    request();
    if (index < 0) { label.textContent = ""; return; }
    var p = points[index];
    label.textContent = p[4] + " · " + categoryLabel(p[3]) + (canPlay() ? "" : " · click the map once to hear sounds as you hover");
    if (!canPlay()) { return; }
    var audio = window.samplemindAudio;
    if (track.dataset.sample === p[0] && audio && !audio.paused) { return; }
    track.dataset.src = app.dataset.previewUrl.replace(NO_ID, p[0]);
    track.dataset.sample = p[0];
    track.dataset.name = p[4];
    track.dataset.meta = categoryLabel(p[3]);
    track.dataset.duration = "";
    track.click();  // the player bar (static/js/player.js) plays it and shows it
  }

  function open(index) {
    window.location.href = app.dataset.sampleUrl.replace(NO_ID, points[index][0]);
  }

  // ------------------------------------------------------------------ lasso

  var lasso = null;
  function lassoOn() { return lassoButton.getAttribute("aria-pressed") === "true"; }
  lassoButton.addEventListener("click", function () {
    lassoButton.setAttribute("aria-pressed", String(!lassoOn()));
    canvas.classList.toggle("is-lasso", lassoOn());
  });

  function inside(x, y, polygon) {
    var hit = false;
    for (var i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
      var xi = polygon[i][0], yi = polygon[i][1], xj = polygon[j][0], yj = polygon[j][1];
      if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) { hit = !hit; }
    }
    return hit;
  }

  function select(polygon) {
    var rect = box();
    var s = spans(rect);
    selectedCount = 0;
    for (var i = 0; i < points.length; i++) {
      var at = toScreen(points[i][1], points[i][2], rect, s);
      selectedFlags[i] = shownFlags[i] && inside(at[0], at[1], polygon) ? 1 : 0;
      selectedCount += selectedFlags[i];
    }
    twgl.setAttribInfoBufferFromArray(gl, buffers.attribs.selected, selectedFlags);
    showSelection();
    request();
  }

  function clearSelection() {
    if (!buffers) { return; }
    selectedFlags.fill(0);
    selectedCount = 0;
    twgl.setAttribInfoBufferFromArray(gl, buffers.attribs.selected, selectedFlags);
    showSelection();
    request();
  }

  function showSelection() {
    app.dataset.selected = String(selectedCount);
    selection.hidden = selectedCount === 0;
    var sounds = selectedCount === 1 ? "1 sound" : selectedCount.toLocaleString() + " sounds";
    document.getElementById("sound-map-selected").textContent = sounds + " selected";
    var add = document.getElementById("sound-map-add");
    if (add) { add.textContent = "Add " + sounds + " to collection"; }
  }

  // ------------------------------------------------------------------ pointer

  var drag = null;
  canvas.addEventListener("pointerdown", function (event) {
    if (event.button !== 0) { return; }
    var rect = box();
    var at = [event.clientX - rect.left, event.clientY - rect.top];
    canvas.setPointerCapture(event.pointerId);
    drag = { start: at, last: at, moved: false, lasso: lassoOn() || event.shiftKey };
    if (drag.lasso) { lasso = [at]; }
  });
  canvas.addEventListener("pointermove", function (event) {
    var rect = box();
    var at = [event.clientX - rect.left, event.clientY - rect.top];
    if (!drag) { hover(nearest(at[0], at[1], rect)); return; }
    if (Math.abs(at[0] - drag.start[0]) + Math.abs(at[1] - drag.start[1]) > 4) { drag.moved = true; }
    if (drag.lasso) {
      lasso.push(at);
    } else if (drag.moved) {
      var s = spans(rect);
      view.cx -= (at[0] - drag.last[0]) / s[0];
      view.cy += (at[1] - drag.last[1]) / s[1];
      canvas.classList.add("is-panning");
    }
    drag.last = at;
    request();
  });
  canvas.addEventListener("pointerup", function (event) {
    if (!drag) { return; }
    var rect = box();
    var at = [event.clientX - rect.left, event.clientY - rect.top];
    var was = drag;
    drag = null;
    canvas.classList.remove("is-panning");
    if (was.lasso && was.moved && lasso.length > 2) {
      select(lasso);
    } else if (!was.moved) {
      var index = nearest(at[0], at[1], rect);
      if (index >= 0) { open(index); } else if (was.lasso || selectedCount) { clearSelection(); }
    }
    lasso = null;
    request();
  });
  canvas.addEventListener("pointerleave", function () { if (!drag) { hover(-1); } });

  function zoomAt(factor, px, py) {
    var rect = box();
    var before = toData(px, py, rect);
    view.zoom = Math.min(200, Math.max(0.5, view.zoom * factor));
    var after = toData(px, py, rect);
    view.cx += before[0] - after[0];
    view.cy += before[1] - after[1];
    request();
  }
  canvas.addEventListener("wheel", function (event) {
    event.preventDefault();
    var rect = box();
    zoomAt(Math.pow(1.0015, -event.deltaY), event.clientX - rect.left, event.clientY - rect.top);
  }, { passive: false });
  document.getElementById("sound-map-zoom-in").addEventListener("click", function () {
    var rect = box();
    zoomAt(1.5, rect.width / 2, rect.height / 2);
  });
  document.getElementById("sound-map-zoom-out").addEventListener("click", function () {
    var rect = box();
    zoomAt(1 / 1.5, rect.width / 2, rect.height / 2);
  });
  document.getElementById("sound-map-fit").addEventListener("click", function () {
    view = { cx: 0.5, cy: 0.5, zoom: 1 };
    request();
  });
  window.addEventListener("resize", function () { resize(); request(); });

  // Keys on the focused map: arrows move it, + and - zoom, 0 fits, Escape clears the selection.
  canvas.tabIndex = 0;
  canvas.addEventListener("keydown", function (event) {
    var rect = box();
    var s = spans(rect);
    var step = 0.1 * Math.min(rect.width, rect.height);
    var moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[event.key]) {
      view.cx += moves[event.key][0] / s[0];
      view.cy -= moves[event.key][1] / s[1];
      request();
    } else if (event.key === "+" || event.key === "=") {
      zoomAt(1.5, rect.width / 2, rect.height / 2);
    } else if (event.key === "-") {
      zoomAt(1 / 1.5, rect.width / 2, rect.height / 2);
    } else if (event.key === "0") {
      view = { cx: 0.5, cy: 0.5, zoom: 1 };
      request();
    } else if (event.key === "Escape" && selectedCount) {
      clearSelection();
    } else {
      return;
    }
    // Handled here: the player bar's keys (arrows pick and seek sounds) stay out of it.
    event.preventDefault();
    event.stopPropagation();
  });

  // ------------------------------------------------------------------ collections

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (error) { return ""; }
  }

  function addToCollection() {
    var choice = document.getElementById("sound-map-collection");
    var option = choice.options[choice.selectedIndex];
    var ids = points.filter(function (p, i) { return selectedFlags[i]; }).map(function (p) { return p[0]; });
    var url = app.dataset.addUrl.replace("/0/", "/" + choice.value + "/");
    var chunks = [];
    for (var i = 0; i < ids.length; i += MAX_IDS_PER_REQUEST) { chunks.push(ids.slice(i, i + MAX_IDS_PER_REQUEST)); }
    var total = 0;
    added.textContent = "Adding…";
    chunks.reduce(function (previous, chunk) {
      return previous.then(function () {
        return fetch(url, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
          body: JSON.stringify({ sample_ids: chunk }),
        }).then(function (response) {
          return response.json().then(function (body) {
            if (!response.ok) { throw new Error((body.error && body.error.message) || "The collection did not take them."); }
            total += body.added;
          });
        });
      });
    }, Promise.resolve()).then(function () {
      var already = ids.length - total;
      added.replaceChildren(
        "Added " + (total === 1 ? "1 sound" : total.toLocaleString() + " sounds") + " to ",
        link(option), already ? " (" + already.toLocaleString() + " already there)." : ".");
      clearSelection();
    }).catch(function (error) {
      added.textContent = error.message;
    });
  }
  function link(option) {
    var a = document.createElement("a");
    a.href = option.dataset.url;
    a.textContent = "“" + option.textContent + "”";
    return a;
  }
  var addButton = document.getElementById("sound-map-add");
  if (addButton) { addButton.addEventListener("click", addToCollection); }
  document.getElementById("sound-map-clear").addEventListener("click", clearSelection);

  // ------------------------------------------------------------------ legend and loading

  function legend() {
    var counts = {};
    points.forEach(function (p) { counts[p[3]] = (counts[p[3]] || 0) + 1; });
    var list = document.getElementById("sound-map-legend");
    list.replaceChildren();
    Object.keys(counts).sort(function (a, b) { return categoryLabel(a).localeCompare(categoryLabel(b)); }).forEach(function (category) {
      var item = document.createElement("li");
      var toggle = document.createElement("button");
      toggle.type = "button";
      toggle.className = "sound-map__category";
      toggle.setAttribute("aria-pressed", String(!hiddenCategories[category]));
      toggle.title = "Show or hide " + categoryLabel(category).toLowerCase() + " sounds";
      var swatch = document.createElement("span");
      swatch.className = "sound-map__swatch";
      swatch.style.background = COLOURS[category] || COLOURS.other;
      var count = document.createElement("span");
      count.className = "muted";
      count.textContent = counts[category].toLocaleString();
      toggle.append(swatch, categoryLabel(category) + " ", count);
      toggle.addEventListener("click", function () {
        var on = toggle.getAttribute("aria-pressed") !== "true";
        toggle.setAttribute("aria-pressed", String(on));
        showCategory(category, on);
      });
      item.append(toggle);
      list.append(item);
    });
  }

  // The layout is drawn in the background: while it is, show what there is and ask again.
  function load() {
    fetch(app.dataset.points, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        // A redrawn map keeps what was selected on the last one.
        var kept = {};
        points.forEach(function (p, i) { if (selectedFlags[i]) { kept[p[0]] = true; } });
        points = body.points || [];
        hovered = -1;
        resize();
        upload();
        points.forEach(function (p, i) { if (kept[p[0]]) { selectedFlags[i] = 1; selectedCount += 1; } });
        if (selectedCount) { twgl.setAttribInfoBufferFromArray(gl, buffers.attribs.selected, selectedFlags); }
        showSelection();
        legend();
        document.getElementById("sound-map-empty").hidden = points.length > 0 || Boolean(body.computing);
        app.dataset.count = String(points.length);
        app.dataset.computing = String(Boolean(body.computing));
        status.hidden = !body.computing;
        request();
        if (body.computing) { window.setTimeout(load, 3000); }
      });
  }
  load();
})();
