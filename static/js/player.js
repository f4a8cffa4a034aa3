/* The player bar: one <audio> for the page, fed by every .play-button (templates/library/_play.html).
 *
 * A track is a .play-button; its data-* give the preview URL, the stored duration (so the
 * position and the total are right before the file has loaded), the peaks URL for the
 * waveform, the name and the page. The selection outlives the sound: when a one-shot ends,
 * ↓ goes on from it. Keys: ↑/↓ select and play, space play/stop, ←/→ seek, enter opens,
 * l loops, m matches the project tempo and key, / searches, ? lists the keys.
 */
(function () {
  "use strict";

  var audio = new Audio();
  audio.preload = "auto";
  window.samplemindAudio = audio;

  var bar = document.getElementById("player-bar");
  var ui = {
    play: document.getElementById("player-play"),
    prev: document.getElementById("player-prev"),
    next: document.getElementById("player-next"),
    loop: document.getElementById("player-loop"),
    volume: document.getElementById("player-volume"),
    title: document.getElementById("player-title"),
    meta: document.getElementById("player-meta"),
    time: document.getElementById("player-time"),
    wave: document.getElementById("player-wave"),
    keys: document.getElementById("player-keys"),
    help: document.getElementById("keys-help"),
  };

  var state = { track: null, selected: null, duration: 0, peaks: null, frame: 0 };
  // A track's page and peaks URLs, from the bar's patterns (fewer bytes in every row).
  var NO_ID = "00000000-0000-0000-0000-000000000000";
  function urlOf(button, kind) {
    var own = button.dataset[kind];
    if (own) { return own; }
    var pattern = bar && bar.dataset[kind === "href" ? "sampleUrl" : "peaksUrl"];
    return pattern && button.dataset.sample ? pattern.replace(NO_ID, button.dataset.sample) : "";
  }
  var peaksCache = {};

  function remembered(name, fallback) {
    try { var value = window.localStorage.getItem("samplemind." + name); return value === null ? fallback : value; }
    catch (error) { return fallback; }
  }
  function remember(name, value) {
    try { window.localStorage.setItem("samplemind." + name, String(value)); } catch (error) { /* private mode */ }
  }

  // ------------------------------------------------------------------ tracks and selection

  function tracks() {
    return Array.prototype.slice.call(document.querySelectorAll(".play-button[data-src]"));
  }

  function holder(button) {
    return button.closest("[data-sample]:not(.play-button)") || button;
  }

  function indexOf(button) {
    var list = tracks();
    var index = list.indexOf(button);
    if (index < 0 && button) {
      // The row was redrawn (htmx): find the same sample again.
      var id = button.dataset.sample;
      index = list.findIndex(function (other) { return other.dataset.sample === id; });
    }
    return index;
  }

  function select(button) {
    if (state.selected && state.selected !== button) {
      var old = holder(state.selected);
      old.classList.remove("is-selected");
      old.removeAttribute("aria-current");
    }
    state.selected = button;
    var row = holder(button);
    row.classList.add("is-selected");
    row.setAttribute("aria-current", "true");
    if (row.scrollIntoView) { row.scrollIntoView({ block: "nearest" }); }
  }

  function durationOf(button) {
    var stored = parseFloat(button && button.dataset.duration);
    if (stored > 0) { return stored; }
    return isFinite(audio.duration) ? audio.duration : 0;
  }

  function load(button) {
    if (state.track) { paintRow(state.track, 0); }
    state.track = button;
    state.duration = durationOf(button);
    state.peaks = null;
    audio.src = button.dataset.src;
    audio.loop = ui.loop && ui.loop.getAttribute("aria-pressed") === "true";
    var matched = applyMatch();
    if (bar) { bar.dataset.idle = "false"; }
    if (ui.title) {
      ui.title.textContent = button.dataset.name || "Sample";
      ui.title.href = urlOf(button, "href") || "#content";
    }
    peaksFor(button).then(function (data) {
      if (state.track !== button) { return; }
      state.peaks = data.peaks;
      if (!state.duration && data.duration) { state.duration = data.duration; }
      paint();
    });
    paint();
    return matched;
  }

  function play(button, at) {
    select(button);
    var matched = null;
    if (state.track !== button || audio.src.indexOf(button.dataset.src) < 0) {
      matched = load(button);
    } else if (at === undefined && audio.ended) {
      audio.currentTime = 0;
    }
    if (at !== undefined) { audio.currentTime = at; }
    if (shifter.context && shifter.context.state === "suspended") { shifter.context.resume(); }
    // A play() interrupted by a new load or a pause (arrowing quickly) rejects with an
    // AbortError; only a real failure of the sample still selected is shown.
    function start() {
      if (state.track !== button) { return; }
      audio.play().catch(function (error) {
        if (state.track === button && !(error && error.name === "AbortError") && ui.meta) {
          ui.meta.textContent = "This sample cannot be played (" + (error && error.name) + ").";
        }
      });
    }
    // Only the first shifted sound waits (for the shifter to load); the rest start at once.
    if (matched && shifter.ready && !shifter.node) { matched.then(start); } else { start(); }
  }

  function stop() {
    audio.pause();
    audio.currentTime = 0;
    paint();
  }

  function toggle(button) {
    button = button || state.selected || tracks()[0];
    if (!button) { return; }
    if (state.track === button && !audio.paused) { stop(); return; }
    play(button);
  }

  function step(by) {
    var list = tracks();
    if (!list.length) { return; }
    var index = indexOf(state.selected);
    index = index < 0 ? (by > 0 ? 0 : list.length - 1) : Math.min(Math.max(index + by, 0), list.length - 1);
    list[index].focus({ preventScroll: true });
    play(list[index], 0);
  }

  function seekBy(fraction) {
    var length = state.duration || durationOf(state.track);
    if (!state.track || !length) { return; }
    audio.currentTime = Math.min(Math.max(audio.currentTime + fraction * length, 0), Math.max(length - 0.01, 0));
    paint();
  }

  // ------------------------------------------------------------------ drawing

  function peaksFor(button) {
    var url = urlOf(button, "peaks");
    if (!url) { return Promise.resolve({ peaks: null, duration: 0 }); }
    if (!peaksCache[url]) {
      peaksCache[url] = fetch(url, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { peaks: null }; })
        .catch(function () { return { peaks: null }; });
    }
    return peaksCache[url];
  }

  function colour(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name);
    return (value && value.trim()) || fallback;
  }

  function drawWave(canvas, peaks, progress) {
    var ratio = window.devicePixelRatio || 1;
    var width = canvas.clientWidth;
    var height = canvas.clientHeight;
    if (!width || !height) { return; }
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    var context = canvas.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    var played = colour("--wave-played", "#7aa2ff");
    var rest = colour("--wave", "#5b6473");
    var pitch = 3;
    var bars = Math.max(1, Math.floor(width / pitch));
    var middle = height / 2;
    for (var i = 0; i < bars; i += 1) {
      var level = 0.04;
      if (peaks && peaks.length) {
        var start = Math.floor((i * peaks.length) / bars);
        var end = Math.max(Math.floor(((i + 1) * peaks.length) / bars), start + 1);
        for (var j = start; j < end; j += 1) { level = Math.max(level, peaks[j] || 0); }
      }
      var half = Math.max(level * middle * 0.95, 0.75);
      context.fillStyle = (i + 0.5) / bars <= progress ? played : rest;
      context.fillRect(i * pitch, middle - half, pitch - 1, half * 2);
    }
    if (progress > 0) {
      context.fillStyle = colour("--text", "#fff");
      context.fillRect(Math.min(progress * width, width - 1), 0, 1, height);
    }
  }

  function clock(seconds) {
    seconds = Math.max(0, seconds || 0);
    var minutes = Math.floor(seconds / 60);
    var rest = seconds - minutes * 60;
    return minutes + ":" + (rest < 10 ? "0" : "") + rest.toFixed(1);
  }

  function paintRow(button, progress) {
    var row = holder(button);
    var played = row.querySelector(".mini-wave__played");
    if (played) { played.style.width = (progress * 100).toFixed(2) + "%"; }
  }

  // Times as heard: a loop stretched to the project tempo lasts length / rate.
  function heard(seconds) { return clock(seconds / (audio.playbackRate || 1)); }

  function paint() {
    var length = state.duration || durationOf(state.track);
    var position = Math.min(audio.currentTime || 0, length || 0);
    var progress = length ? position / length : 0;
    if (ui.wave) {
      drawWave(ui.wave, state.peaks, progress);
      ui.wave.setAttribute("aria-valuemax", length.toFixed(2));
      ui.wave.setAttribute("aria-valuenow", position.toFixed(2));
      ui.wave.setAttribute("aria-valuetext", heard(position) + " of " + heard(length));
    }
    if (ui.time) { ui.time.textContent = heard(position) + " / " + heard(length); }
    if (state.track) {
      paintRow(state.track, progress);
      document.querySelectorAll('canvas.wave-canvas[data-sample="' + state.track.dataset.sample + '"]').forEach(function (canvas) {
        drawWave(canvas, state.peaks, progress);
      });
    }
  }

  function animate() {
    paint();
    state.frame = audio.paused ? 0 : window.requestAnimationFrame(animate);
  }

  function showPlaying() {
    var playing = !audio.paused;
    tracks().forEach(function (button) {
      var on = playing && button === state.track;
      if (button.getAttribute("aria-pressed") !== String(on)) {
        button.setAttribute("aria-pressed", on ? "true" : "false");
        button.firstElementChild.textContent = on ? "■" : "▶";
      }
    });
    if (ui.play) {
      ui.play.setAttribute("aria-pressed", playing ? "true" : "false");
      ui.play.setAttribute("aria-label", playing ? "Stop" : "Play");
      ui.play.firstElementChild.textContent = playing ? "■" : "▶";
    }
    if (bar) { bar.classList.toggle("is-playing", playing); }
    if (playing && !state.frame) { state.frame = window.requestAnimationFrame(animate); }
    paint();
  }

  audio.addEventListener("play", showPlaying);
  audio.addEventListener("pause", showPlaying);
  audio.addEventListener("ended", showPlaying);
  audio.addEventListener("seeked", paint);
  audio.addEventListener("loadedmetadata", function () {
    if (!state.duration && isFinite(audio.duration)) { state.duration = audio.duration; paint(); }
  });

  // ------------------------------------------------------------------ seeking by pointer

  function fractionAt(element, event) {
    var box = element.getBoundingClientRect();
    return Math.min(Math.max((event.clientX - box.left) / box.width, 0), 1);
  }

  function trackFor(id) {
    return tracks().find(function (button) { return button.dataset.sample === id; });
  }

  function seekTo(button, fraction) {
    var length = durationOf(button);
    if (state.track === button) {
      audio.currentTime = fraction * (state.duration || length);
      if (audio.paused) { play(button, audio.currentTime); } else { paint(); }
    } else {
      play(button, fraction * length);
    }
  }

  var dragging = null;
  document.addEventListener("pointerdown", function (event) {
    if (event.button !== 0) { return; }
    var surface = event.target.closest("#player-wave, canvas.wave-canvas[data-sample], .mini-wave-box[data-seek]");
    if (!surface) { return; }
    var button = surface === ui.wave ? state.track : trackFor(surface.dataset.sample || surface.dataset.seek);
    if (!button) { return; }
    event.preventDefault();
    dragging = { surface: surface, button: button };
    if (surface.setPointerCapture) { surface.setPointerCapture(event.pointerId); }
    seekTo(button, fractionAt(surface, event));
  });
  document.addEventListener("pointermove", function (event) {
    if (!dragging) { return; }
    var length = state.duration || durationOf(dragging.button);
    audio.currentTime = fractionAt(dragging.surface, event) * length;
    paint();
  });
  function release() { dragging = null; }
  document.addEventListener("pointerup", release);
  document.addEventListener("pointercancel", release);

  // ------------------------------------------------------------------ buttons

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".play-button");
    if (button) { toggle(button); }
  });
  if (ui.play) { ui.play.addEventListener("click", function () { toggle(state.track || state.selected); }); }
  if (ui.next) { ui.next.addEventListener("click", function () { step(1); }); }
  if (ui.prev) { ui.prev.addEventListener("click", function () { step(-1); }); }

  function setLoop(on) {
    audio.loop = on;
    if (ui.loop) { ui.loop.setAttribute("aria-pressed", on ? "true" : "false"); }
    remember("loop", on ? "1" : "0");
  }
  if (ui.loop) {
    setLoop(remembered("loop", "0") === "1");
    ui.loop.addEventListener("click", function () { setLoop(!audio.loop); });
  }
  if (ui.volume) {
    ui.volume.value = remembered("volume", ui.volume.value);
    audio.volume = parseFloat(ui.volume.value);
    ui.volume.addEventListener("input", function () {
      audio.volume = parseFloat(ui.volume.value);
      remember("volume", ui.volume.value);
    });
  }

  // ------------------------------------------------------------------ matching the project

  // With matching on, the browser itself plays a loop at the project tempo (its own
  // time-stretch: preservesPitch) and shifts a tonal sound to the project key, so audition
  // needs no request. The key shift is Signalsmith Stretch's (static/vendor, MIT), an
  // AudioWorklet the <audio> element feeds: the element keeps its seeking, looping and tempo,
  // the worklet only transposes, and a one-shot keeps its length as in a render. The
  // semitones come from the server (the project's `key_shifts`, studio/matching.py's rule);
  // the rows say what they need (data-loop-bpm, data-pitch, data-mode, data-drum). Without
  // AudioWorklet a one-shot is repitched like a sampler (rate is pitch), a tonal loop only
  // stretched.
  var PITCHES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
  var match = {
    box: document.getElementById("player-match"),
    bpm: document.getElementById("player-bpm"),
    key: document.getElementById("player-key"),
    toggle: document.getElementById("player-matching"),
    project: null,  // the last answer of /api/v1/studio/project
    saves: 0,  // only the latest save's answer is shown (quick changes cross on the wire)
  };

  // The key shifter: loaded on first need, then the element plays through it for good.
  var shifter = {
    url: match.box && match.box.dataset.stretcherUrl,
    ready: null, context: null, source: null, node: null, semitones: 0,
  };
  window.samplemindShifter = shifter;  // for the browser test's look at the graph
  var canShift = Boolean(shifter.url && window.AudioWorkletNode && window.WebAssembly);

  function vendored(url) {
    return new Promise(function (resolve, reject) {
      if (window.SignalsmithStretch) { resolve(window.SignalsmithStretch); return; }
      var script = document.createElement("script");
      script.src = url;
      script.onload = function () { resolve(window.SignalsmithStretch); };
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  function shifterReady() {
    if (!shifter.ready) {
      shifter.ready = vendored(shifter.url).then(function (create) {
        // The same file registers the worklet: no blob: module for the CSP to allow.
        create.moduleUrl = shifter.url;
        shifter.context = new AudioContext({ latencyHint: "interactive" });
        return create(shifter.context);
      }).then(function (node) {
        shifter.node = node;
        shifter.source = shifter.context.createMediaElementSource(audio);
        node.connect(shifter.context.destination);
        route(shifter.semitones);
        return node;
      }).catch(function () {
        canShift = false;  // sampler-style from now on
        if (shifter.source) { shifter.source.connect(shifter.context.destination); }
        applyMatch();
        return null;
      });
    }
    return shifter.ready;
  }

  // Through the worklet only while a shift is wanted; straight out otherwise.
  function route(semitones) {
    shifter.semitones = semitones;
    if (!shifter.node) { return; }
    shifter.source.disconnect();
    shifter.source.connect(semitones ? shifter.node : shifter.context.destination);
    shifter.node.schedule({ active: Boolean(semitones), semitones: semitones });
    if (shifter.context.state === "suspended") { shifter.context.resume(); }
  }

  // Warmed at the page's first touch while a key is being matched, so even the first tonal
  // sound starts at once (an AudioContext may only start after a gesture).
  function warm() {
    var project = match.project;
    if (canShift && !shifter.ready && project && project.matching && project.key_shifts) { shifterReady(); }
  }
  document.addEventListener("pointerdown", warm, true);
  document.addEventListener("keydown", warm, true);

  // The loop's tempo, its half or its double, whichever is nearest the project's.
  function tempoRatio(sourceBpm, targetBpm) {
    var nearest = [sourceBpm / 2, sourceBpm, sourceBpm * 2].reduce(function (best, bpm) {
      return Math.abs(Math.log(targetBpm / bpm)) < Math.abs(Math.log(targetBpm / best)) ? bpm : best;
    });
    return targetBpm / nearest;
  }

  function matchFor(button) {
    var project = match.project;
    var data = button && button.dataset;
    if (!project || !project.matching || !data) { return null; }
    var matched = { rate: 1, preservesPitch: true, semitones: 0, notes: [] };
    if (data.loopBpm && project.bpm) {
      matched.rate = tempoRatio(parseFloat(data.loopBpm), project.bpm);
      matched.notes.push("at " + project.bpm + " BPM");
    }
    var shifts = project.key_shifts && data.pitch && (!data.drum || project.pitch_drums)
      ? project.key_shifts[data.mode || "unknown"] : null;
    if (shifts && shifts[data.pitch] !== undefined) {
      var semitones = shifts[data.pitch];
      var sign = semitones > 0 ? "+" : semitones < 0 ? "−" : "±";
      if (canShift) {
        matched.semitones = semitones;
      } else if (!data.loopBpm || !project.bpm) {
        matched.rate = Math.pow(2, semitones / 12);
        matched.preservesPitch = false;
      }
      if (canShift || !matched.preservesPitch) {
        matched.notes.push(sign + Math.abs(semitones) + " st to " + project.key);
      }
    }
    return matched.notes.length ? matched : null;
  }

  // Resolves once the track sounds as matched: at once, unless the shifter must load first.
  function applyMatch() {
    var matched = matchFor(state.track);
    audio.preservesPitch = matched ? matched.preservesPitch : true;
    audio.defaultPlaybackRate = audio.playbackRate = matched ? matched.rate : 1;
    if (ui.meta && state.track) {
      ui.meta.textContent = (state.track.dataset.meta || "") + (matched ? " · " + matched.notes.join(" · ") : "");
      ui.meta.title = ui.meta.textContent;  // the bar may cut it short
    }
    var semitones = matched ? matched.semitones : 0;
    if (semitones && !shifter.node) {
      shifter.semitones = semitones;
      return shifterReady();
    }
    route(semitones);
    return Promise.resolve();
  }

  function showProject(project) {
    match.project = project;
    match.bpm.value = project.bpm || "";
    match.key.value = project.key ? project.key + (project.mode === "minor" ? "m" : "") : "";
    match.toggle.setAttribute("aria-pressed", project.matching ? "true" : "false");
    match.box.hidden = false;
    applyMatch();
    // drag.js names a dragged render after the project.
    document.dispatchEvent(new CustomEvent("samplemind:project", { detail: project }));
  }

  function saveProject(changes) {
    var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    headers["Content-Type"] = "application/json";
    var save = (match.saves += 1);
    fetch(match.box.dataset.projectUrl, {
      method: "PATCH", body: JSON.stringify(changes), headers: headers, credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(function (body) {
        if (save !== match.saves) { return; }
        if (response.ok) { showProject(body); return; }
        showProject(match.project);  // back to what is stored
        var problem = Object.keys(body).map(function (name) { return [].concat(body[name]).join(" "); })[0];
        if (ui.meta) { ui.meta.textContent = "Project not saved: " + (problem || response.status); }
      });
    }).catch(function () {
      if (ui.meta) { ui.meta.textContent = "Project not saved: no connection."; }
    });
  }

  function setMatching(on) {
    if (!match.project) { return; }
    // Heard at once; the account remembers it a moment later.
    showProject(Object.assign({}, match.project, { matching: on }));
    saveProject({ matching: on });
  }

  if (match.box) {
    PITCHES.forEach(function (pitch) {
      ["", "m"].forEach(function (minor) {
        match.key.add(new Option(pitch + (minor ? " minor" : " major"), pitch + minor));
      });
    });
    match.bpm.addEventListener("change", function () {
      saveProject({ bpm: match.bpm.value === "" ? null : parseFloat(match.bpm.value) });
    });
    match.key.addEventListener("change", function () { saveProject({ key: match.key.value || null }); });
    match.toggle.addEventListener("click", function () { setMatching(!match.project.matching); });
    fetch(match.box.dataset.projectUrl, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (project) { if (project) { showProject(project); } })
      .catch(function () { /* the control stays hidden */ });
  }

  function showKeys() {
    if (ui.help && !ui.help.open && ui.help.showModal) { ui.help.showModal(); }
  }
  if (ui.keys) { ui.keys.addEventListener("click", showKeys); }

  window.addEventListener("resize", paint);

  // ------------------------------------------------------------------ keyboard

  function typing(target) {
    return target.closest && target.closest("input, textarea, select, [contenteditable]");
  }

  function searchBox() {
    return document.querySelector("[data-search], #search-q") || document.getElementById("site-search");
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (ui.help && ui.help.open) { return; }
    var target = event.target;
    if (typing(target)) {
      if (event.key === "Escape") { target.blur(); }
      return;
    }
    var onControl = target.closest && target.closest("button, a, summary, [role=slider]");
    switch (event.key) {
      case "ArrowDown":
      case "ArrowUp":
        if (!tracks().length) { return; }
        event.preventDefault();
        step(event.key === "ArrowDown" ? 1 : -1);
        break;
      case " ":
        // On a button or link, space is its own click (a focused ▶ plays or stops itself).
        if (onControl && target !== ui.wave) { return; }
        event.preventDefault();
        toggle(state.track || state.selected);
        break;
      case "ArrowLeft":
      case "ArrowRight":
        if (!state.track) { return; }
        event.preventDefault();
        seekBy(event.key === "ArrowRight" ? 0.1 : -0.1);
        break;
      case "Enter":
        // Arrowing focuses the row's ▶, so enter on it opens the sample too.
        if ((onControl && !target.classList.contains("play-button")) || !state.selected || !urlOf(state.selected, "href")) { return; }
        event.preventDefault();
        window.location.href = urlOf(state.selected, "href");
        break;
      case "l":
      case "L":
        event.preventDefault();
        setLoop(!audio.loop);
        break;
      case "m":
      case "M":
        if (!match.project) { return; }
        event.preventDefault();
        setMatching(!match.project.matching);
        break;
      case "/":
        var box = searchBox();
        if (!box) { return; }
        event.preventDefault();
        box.focus();
        if (box.select) { box.select(); }
        break;
      case "?":
        event.preventDefault();
        showKeys();
        break;
      default:
    }
  });

  // A row's own play button keeps focus in step with the selection when rows are clicked.
  document.addEventListener("focusin", function (event) {
    var button = event.target.closest && event.target.closest(".play-button");
    if (button && button !== state.selected) { select(button); }
  });

  // Draw the page's large waveforms (a sample's own page) before anything plays.
  document.querySelectorAll("canvas.wave-canvas[data-sample]").forEach(function (canvas) {
    var button = trackFor(canvas.dataset.sample);
    if (!button) { return; }
    peaksFor(button).then(function (data) {
      if (state.track !== button) { drawWave(canvas, data.peaks, 0); }
    });
  });
  paint();
  // For the browser test's measure: the moment the list answers keys.
  if (window.performance && performance.mark) { performance.mark("samplemind:ready"); }
})();
