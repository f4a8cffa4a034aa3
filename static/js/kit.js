// The kit builder: play pads by click or key, drop sounds on pads, "complete this kit".
(() => {
  "use strict";
  const root = document.getElementById("kit-builder");
  if (!root) return;
  const editable = root.dataset.editable === "true";
  const KEYS = "1234qwerasdfzxcv";
  const DRAG_TYPE = "application/x-samplemind-sample";
  let context = null;
  let activePad = null;
  const buffers = new Map();

  // "drum_loop" -> "Drum loop", as the server's category_label writes it.
  function categoryLabel(value) {
    const words = String(value || "").replace(/_/g, " ");
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function load(url) {
    if (!buffers.has(url)) {
      context = context || new AudioContext();
      const pending = fetch(url, { credentials: "same-origin" })
        .then((response) => {
          if (!response.ok) throw new Error(`preview ${response.status}`);
          return response.arrayBuffer();
        })
        .then((bytes) => context.decodeAudioData(bytes));
      pending.catch(() => buffers.delete(url));
      buffers.set(url, pending);
    }
    return buffers.get(url);
  }

  async function play(url) {
    if (!url) return;
    context = context || new AudioContext();
    if (context.state === "suspended") await context.resume();
    const buffer = await load(url);
    const source = context.createBufferSource();
    source.buffer = buffer;
    source.connect(context.destination);
    source.start();
    // For measuring key press to sound: when the source started, and the device's own delay.
    const outputLatency = (context.baseLatency || 0) + (context.outputLatency || 0);
    const detail = { url, at: performance.now(), outputLatency };
    root.dispatchEvent(new CustomEvent("kit:played", { detail }));
  }

  function hit(pad) {
    pad.classList.add("kit-pad--hit");
    setTimeout(() => pad.classList.remove("kit-pad--hit"), 120);
    play(pad.dataset.preview);
  }

  function choose(pad) {
    root.querySelectorAll(".kit-pad--active").forEach((p) => p.classList.remove("kit-pad--active"));
    activePad = pad;
    pad.classList.add("kit-pad--active");
  }

  function showPad(pad, entry) {
    const name = pad.querySelector(".kit-pad__name");
    const meta = pad.querySelector(".kit-pad__meta");
    if (!entry) {
      pad.classList.remove("kit-pad--filled");
      delete pad.dataset.preview;
      name.textContent = "empty";
      meta.textContent = "";
      return;
    }
    pad.classList.add("kit-pad--filled");
    pad.dataset.preview = entry.sample.preview_url;
    name.textContent = entry.sample.name;
    meta.textContent = [categoryLabel(entry.sample.category), entry.sample.root_note].filter(Boolean).join(" · ");
    load(entry.sample.preview_url);
  }

  async function assign(pad, sampleId) {
    const number = Number(pad.dataset.pad);
    const response = await fetch(root.dataset.padsUrl, {
      method: "PUT",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ pads: [{ pad: number, sample_id: sampleId }] }),
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      window.alert((body.error && body.error.message) || "That sound could not go on the pad.");
      return;
    }
    const pads = await response.json();
    showPad(pad, pads.find((entry) => entry.pad === number));
  }

  root.querySelectorAll(".kit-pad").forEach((pad) => {
    if (pad.dataset.preview) load(pad.dataset.preview);
    pad.addEventListener("click", () => {
      choose(pad);
      hit(pad);
    });
    if (!editable) return;
    pad.addEventListener("dragover", (event) => {
      if (event.dataTransfer.types.includes(DRAG_TYPE)) {
        event.preventDefault();
        pad.classList.add("kit-pad--over");
      }
    });
    pad.addEventListener("dragleave", () => pad.classList.remove("kit-pad--over"));
    pad.addEventListener("drop", (event) => {
      event.preventDefault();
      pad.classList.remove("kit-pad--over");
      const sampleId = event.dataTransfer.getData(DRAG_TYPE);
      if (sampleId) assign(pad, sampleId);
    });
  });

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    if (event.target.closest("input, textarea, select, [contenteditable]")) return;
    const index = KEYS.indexOf(event.key.toLowerCase());
    if (index < 0) return;
    const pad = root.querySelector(`.kit-pad[data-pad="${index + 1}"]`);
    if (!pad) return;
    event.preventDefault();
    choose(pad);
    hit(pad);
  });

  // Sounds (the library list and suggestions) are dragged onto pads or clicked to audition;
  // a click with a pad chosen puts the sound on that pad.
  root.addEventListener("dragstart", (event) => {
    const sound = event.target.closest(".kit-sound");
    if (!sound) return;
    event.dataTransfer.setData(DRAG_TYPE, sound.dataset.sampleId);
    event.dataTransfer.effectAllowed = "copy";
  });
  root.addEventListener("click", (event) => {
    const sound = event.target.closest(".kit-sound");
    if (!sound) return;
    play(sound.dataset.preview);
    if (editable && activePad && event.shiftKey) assign(activePad, sound.dataset.sampleId);
  });

  function soundItem(sample) {
    const item = document.createElement("li");
    item.className = "kit-sound";
    item.draggable = true;
    item.dataset.sampleId = sample.id;
    item.dataset.preview = sample.preview_url;
    const name = document.createElement("span");
    name.className = "kit-sound__name";
    name.textContent = sample.name;
    item.append(name);
    return item;
  }

  const complete = document.getElementById("kit-complete");
  const target = document.getElementById("kit-suggestions");
  if (complete && target) {
    complete.addEventListener("click", async () => {
      target.textContent = "Listening…";
      const response = await fetch(root.dataset.suggestionsUrl, { credentials: "same-origin" });
      const body = await response.json().catch(() => ({}));
      target.textContent = "";
      if (!response.ok) {
        target.textContent = (body.error && body.error.message) || "No suggestions.";
        return;
      }
      for (const [category, samples] of Object.entries(body.suggestions)) {
        if (!samples.length) continue;
        const group = document.createElement("div");
        group.className = "kit-suggestion-group";
        const title = document.createElement("h3");
        title.textContent = categoryLabel(category);
        const list = document.createElement("ul");
        list.className = "kit-sounds";
        samples.forEach((sample) => list.append(soundItem(sample)));
        group.append(title, list);
        target.append(group);
      }
      if (!target.childElementCount) target.textContent = "Nothing close enough in your library yet.";
    });
  }
})();
