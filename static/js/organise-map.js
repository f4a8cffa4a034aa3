// The sound map: points from /api/v1/map drawn on a canvas, coloured by category.
// Hover plays a sample's preview, click opens its page, the wheel zooms, a drag pans.
(function () {
  "use strict";
  const canvas = document.getElementById("sound-map");
  if (!canvas) return;
  const ctx = canvas.getContext("2d");
  const label = document.getElementById("sound-map-label");
  const audio = new Audio();
  const palette = ["#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0",
    "#f032e6", "#bcf60c", "#fabebe", "#008080", "#e6beff", "#9a6324", "#fffac8", "#aaffc3", "#808080"];
  const colours = {};
  let points = [];
  let scale = 1, offsetX = 0, offsetY = 0, hovered = null, dragging = null;

  function colour(category) {
    if (!(category in colours)) colours[category] = palette[Object.keys(colours).length % palette.length];
    return colours[category];
  }
  function size() {
    const box = canvas.getBoundingClientRect();
    canvas.width = box.width * devicePixelRatio;
    canvas.height = box.height * devicePixelRatio;
  }
  function place(p) {
    const pad = 20 * devicePixelRatio;
    const w = canvas.width - 2 * pad, h = canvas.height - 2 * pad;
    return [pad + (p[1] * w) * scale + offsetX, pad + ((1 - p[2]) * h) * scale + offsetY];
  }
  function draw() {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const r = 3 * devicePixelRatio;
    for (const p of points) {
      const [x, y] = place(p);
      if (x < -r || y < -r || x > canvas.width + r || y > canvas.height + r) continue;
      ctx.fillStyle = colour(p[3]);
      ctx.fillRect(x - r, y - r, 2 * r, 2 * r);
    }
    if (hovered) {
      const [x, y] = place(hovered);
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = 2;
      ctx.strokeRect(x - 2 * r, y - 2 * r, 4 * r, 4 * r);
    }
  }
  function nearest(event) {
    const box = canvas.getBoundingClientRect();
    const mx = (event.clientX - box.left) * devicePixelRatio;
    const my = (event.clientY - box.top) * devicePixelRatio;
    let best = null, bestDistance = (8 * devicePixelRatio) ** 2;
    for (const p of points) {
      const [x, y] = place(p);
      const d = (x - mx) ** 2 + (y - my) ** 2;
      if (d < bestDistance) { best = p; bestDistance = d; }
    }
    return best;
  }
  canvas.addEventListener("mousemove", (event) => {
    if (dragging) {
      offsetX += (event.clientX - dragging[0]) * devicePixelRatio;
      offsetY += (event.clientY - dragging[1]) * devicePixelRatio;
      dragging = [event.clientX, event.clientY];
      draw();
      return;
    }
    const found = nearest(event);
    if (found !== hovered) {
      hovered = found;
      draw();
      if (found) {
        label.textContent = found[4] + " · " + found[3].replace("_", " ");
        audio.src = "/library/samples/" + found[0] + "/preview";
        audio.play().catch(() => {});
      } else {
        label.textContent = "";
        audio.pause();
      }
    }
  });
  canvas.addEventListener("mousedown", (event) => { dragging = [event.clientX, event.clientY]; });
  window.addEventListener("mouseup", () => { dragging = null; });
  canvas.addEventListener("click", (event) => {
    const found = nearest(event);
    if (found) window.location.href = "/library/samples/" + found[0] + "/";
  });
  canvas.addEventListener("wheel", (event) => {
    event.preventDefault();
    const box = canvas.getBoundingClientRect();
    const mx = (event.clientX - box.left) * devicePixelRatio;
    const my = (event.clientY - box.top) * devicePixelRatio;
    const factor = event.deltaY < 0 ? 1.2 : 1 / 1.2;
    offsetX = mx - (mx - offsetX) * factor;
    offsetY = my - (my - offsetY) * factor;
    scale *= factor;
    draw();
  }, { passive: false });
  window.addEventListener("resize", () => { size(); draw(); });
  // The layout is drawn in the background: while it is, show what there is and ask again.
  const status = document.getElementById("sound-map-status");
  function load() {
    fetch(canvas.dataset.points, { credentials: "same-origin" })
      .then((response) => response.json())
      .then((body) => {
        points = body.points || [];
        canvas.dataset.count = String(points.length);
        canvas.dataset.computing = String(Boolean(body.computing));
        status.hidden = !body.computing;
        size();
        draw();
        const legend = document.getElementById("sound-map-legend");
        legend.replaceChildren();
        for (const category of Object.keys(colours).sort()) {
          const item = document.createElement("li");
          const swatch = document.createElement("span");
          swatch.className = "sound-map__swatch";
          swatch.style.background = colours[category];
          item.append(swatch, " " + category.replace("_", " "));
          legend.append(item);
        }
        if (body.computing) setTimeout(load, 3000);
      });
  }
  load();
})();
