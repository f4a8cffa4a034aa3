/* Page behaviour: in-place auditioning, keyboard control, upload progress, drag to reorder. */
(function () {
  "use strict";

  var audio = new Audio();
  var current = null;
  window.samplemindAudio = audio;

  function stop() {
    audio.pause();
    if (current) {
      current.setAttribute("aria-pressed", "false");
      current.textContent = "▶";
    }
    current = null;
  }

  function play(button) {
    if (current === button) { stop(); return; }
    stop();
    var player = window.samplemindPlayer;
    if (player) { player.pause(); }
    current = button;
    audio.src = button.dataset.src;
    audio.currentTime = 0;
    audio.play().catch(function () { stop(); });
    button.setAttribute("aria-pressed", "true");
    button.textContent = "■";
  }

  audio.addEventListener("ended", stop);

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".play-button");
    if (button) { play(button); }
  });

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]");
  }

  // Space plays/stops; up/down move through results and audition each.
  document.addEventListener("keydown", function (event) {
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var buttons = Array.prototype.slice.call(document.querySelectorAll(".play-button"));
    if (event.key === " " && event.target.tagName !== "BUTTON" && event.target.tagName !== "A") {
      event.preventDefault();
      if (window.samplemindPlayer) { window.samplemindPlayer.playPause(); return; }
      if (current) { stop(); } else if (buttons.length) { play(buttons[0]); }
    } else if ((event.key === "ArrowDown" || event.key === "ArrowUp") && buttons.length) {
      event.preventDefault();
      var index = buttons.indexOf(current);
      index = event.key === "ArrowDown" ? Math.min(index + 1, buttons.length - 1) : Math.max(index - 1, 0);
      buttons[index].focus();
      play(buttons[index]);
    }
  });

  // Upload progress while HTMX sends the form.
  document.addEventListener("htmx:xhr:progress", function (event) {
    var bar = document.getElementById("upload-progress");
    if (!bar || !event.detail.lengthComputable) { return; }
    // Shown while bytes are on their way; the results replace it once the server answers.
    bar.hidden = event.detail.loaded >= event.detail.total;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
    bar.textContent = bar.value + "%";
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = document.getElementById("upload-form");
    if (form && event.detail.elt === form) {
      form.reset();
      document.getElementById("upload-progress").hidden = true;
    }
  });

  // Dropping files anywhere on the drop zone fills the file input.
  document.addEventListener("dragover", function (event) {
    if (event.target.closest("#dropzone")) { event.preventDefault(); }
  });
  document.addEventListener("drop", function (event) {
    var zone = event.target.closest("#dropzone");
    if (!zone || !event.dataTransfer.files.length) { return; }
    event.preventDefault();
    zone.querySelector("input[type=file]").files = event.dataTransfer.files;
  });

  // Drag to reorder a collection; the new order is saved at once.
  var dragged = null;
  document.addEventListener("dragstart", function (event) {
    dragged = event.target.closest(".sortable > li");
  });
  document.addEventListener("dragover", function (event) {
    var over = event.target.closest(".sortable > li");
    if (!dragged || !over || over === dragged) { return; }
    event.preventDefault();
    var box = over.getBoundingClientRect();
    over.parentNode.insertBefore(dragged, event.clientY > box.top + box.height / 2 ? over.nextSibling : over);
  });
  document.addEventListener("dragend", function () {
    if (!dragged) { return; }
    var list = dragged.parentNode;
    dragged = null;
    var body = new URLSearchParams();
    list.querySelectorAll("li[data-sample]").forEach(function (li) { body.append("sample", li.dataset.sample); });
    var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    fetch(list.dataset.orderUrl, { method: "POST", body: body, headers: headers, credentials: "same-origin" });
  });
})();
