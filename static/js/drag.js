// Drag a sample row out of the browser into a DAW or onto the desktop.
// Chromium-based browsers turn "DownloadURL" drag data (type:name:absolute-url) into a file
// download at the drop; the URL answers the matched render when the project's matching is
// on (studio.views.sample_file), so the name carries the project's tempo and key then.
(() => {
  "use strict";
  let project = null;

  function loadProject() {
    if (project) return project;
    project = fetch("/api/v1/studio/project", { credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : null))
      .catch(() => null);
    return project;
  }

  function fileName(row, settings) {
    const original = row.dataset.dragName || "sample.wav";
    if (!settings || !settings.matching || (!settings.bpm && !settings.key)) return original;
    const stem = original.replace(/\.[^.]+$/, "");
    return `${stem} (${settings.label}).wav`;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const rows = document.querySelectorAll("[data-drag-url]");
    if (!rows.length) return;
    let settings = null;
    loadProject().then((value) => {
      settings = value;
    });
    // The player bar's control changes the project (player.js).
    document.addEventListener("samplemind:project", (event) => {
      settings = event.detail;
    });
    rows.forEach((row) => {
      row.draggable = true;
    });
    document.addEventListener("dragstart", (event) => {
      const row = event.target.closest && event.target.closest("[data-drag-url]");
      if (!row) return;
      const url = new URL(row.dataset.dragUrl, window.location.href).href;
      const name = fileName(row, settings).replace(/:/g, "_");
      const type = settings && settings.matching ? "audio/wav" : row.dataset.dragType || "audio/wav";
      event.dataTransfer.setData("DownloadURL", `${type}:${name}:${url}`);
      event.dataTransfer.setData("text/uri-list", url);
      event.dataTransfer.setData("text/plain", url);
      event.dataTransfer.effectAllowed = "copy";
    });
  });
})();
