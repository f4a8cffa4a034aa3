/* Page behaviour: in-place auditioning, keyboard control, per-file uploads, drag to reorder. */
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
    // A play() interrupted by a new load or a pause (arrowing quickly) rejects with an
    // AbortError; only a real failure of the sample still selected resets the buttons.
    audio.play().catch(function (error) {
      if (current === button && !(error && error.name === "AbortError")) { stop(); }
    });
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

  // Uploads: each file is its own request, so each gets a progress bar and its own answer.
  var AUDIO_NAME = /\.(wav|wave|aif|aiff|flac|ogg|oga|mp3|zip)$/i;
  var UPLOADS_AT_ONCE = 2;
  var dropped = [];

  function csrfHeaders() {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}");
  }

  function describeChosen(form) {
    var note = document.getElementById("upload-chosen");
    if (!note) { return; }
    var count = chosenFiles(form).length;
    note.textContent = count ? count + " file" + (count === 1 ? "" : "s") + " ready to upload" : "";
  }

  function chosenFiles(form) {
    var files = dropped.slice();
    form.querySelectorAll("input[type=file]").forEach(function (input) {
      Array.prototype.forEach.call(input.files, function (file) {
        // A chosen folder brings every file in it: leave out what is plainly not audio.
        if (file.webkitRelativePath && !AUDIO_NAME.test(file.name)) { return; }
        files.push(file);
      });
    });
    return files;
  }

  function queueRow(file) {
    var row = document.createElement("li");
    row.className = "upload-item upload-item--sending";
    var name = document.createElement("span");
    name.className = "upload-item__name";
    name.textContent = file.webkitRelativePath || file.relativePath || file.name;
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Uploading " + file.name);
    var state = document.createElement("span");
    state.className = "muted upload-item__state";
    state.textContent = "Waiting";
    row.append(name, bar, state);
    return row;
  }

  function sendOne(url, file, row, done) {
    var bar = row.querySelector("progress");
    var state = row.querySelector(".upload-item__state");
    var body = new FormData();
    body.append("files", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    var headers = csrfHeaders();
    Object.keys(headers).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
    state.textContent = "Uploading";
    xhr.upload.onprogress = function (event) {
      if (!event.lengthComputable) { return; }
      bar.value = Math.round((event.loaded / event.total) * 100);
      // Once every byte is sent the server is storing and checking the file.
      state.textContent = event.loaded >= event.total ? "Checking" : bar.value + "%";
    };
    xhr.onload = function () {
      if (xhr.status === 200) {
        var holder = document.createElement("ul");
        holder.innerHTML = xhr.responseText;
        var rows = Array.prototype.slice.call(holder.children);
        row.replaceWith.apply(row, rows);
        rows.forEach(function (li) { if (window.htmx) { window.htmx.process(li); } });
      } else {
        failed(row, xhr.status === 413 ? "The file is too large." : "The server refused it (" + xhr.status + ").");
      }
      done();
    };
    xhr.onerror = function () { failed(row, "The connection dropped; try again."); done(); };
    xhr.send(body);
  }

  function failed(row, reason) {
    row.className = "upload-item upload-item--failed";
    row.setAttribute("role", "alert");
    var bar = row.querySelector("progress");
    if (bar) { bar.remove(); }
    row.querySelector(".upload-item__state").textContent = reason;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id !== "upload-form" || !window.FormData) { return; }
    event.preventDefault();
    var list = document.getElementById("upload-queue");
    var heading = document.getElementById("upload-queue-heading");
    var files = chosenFiles(form);
    heading.hidden = false;
    if (!files.length) {
      var row = document.createElement("li");
      row.className = "upload-item upload-item--failed";
      row.setAttribute("role", "alert");
      row.textContent = "Choose at least one audio file.";
      list.prepend(row);
      return;
    }
    var waiting = files.map(function (file) {
      var row = queueRow(file);
      list.append(row);
      return { file: file, row: row };
    });
    dropped = [];
    form.reset();
    describeChosen(form);
    var url = form.dataset.rowsUrl;
    function next() {
      var item = waiting.shift();
      if (item) { sendOne(url, item.file, item.row, next); }
    }
    for (var i = 0; i < UPLOADS_AT_ONCE; i += 1) { next(); }
  });

  document.addEventListener("change", function (event) {
    var form = event.target.closest("#upload-form");
    if (form) { describeChosen(form); }
  });

  // Folders dropped on the drop zone are walked for their files (DataTransferItem entries).
  function readEntry(entry, path) {
    if (entry.isFile) {
      return new Promise(function (resolve) {
        entry.file(function (file) {
          file.relativePath = path + file.name;
          resolve(AUDIO_NAME.test(file.name) ? [file] : []);
        }, function () { resolve([]); });
      });
    }
    if (!entry.isDirectory) { return Promise.resolve([]); }
    var reader = entry.createReader();
    var children = [];
    // readEntries answers in batches (100 at a time in Chromium) until it returns none.
    return new Promise(function (resolve) {
      (function more() {
        reader.readEntries(function (batch) {
          if (!batch.length) { resolve(children); return; }
          children = children.concat(batch);
          more();
        }, function () { resolve(children); });
      })();
    }).then(function (entries) {
      return Promise.all(entries.map(function (child) {
        return readEntry(child, path + entry.name + "/");
      }));
    }).then(function (lists) { return [].concat.apply([], lists); });
  }

  document.addEventListener("dragover", function (event) {
    if (event.target.closest("#dropzone")) { event.preventDefault(); }
  });
  document.addEventListener("drop", function (event) {
    var zone = event.target.closest("#dropzone");
    if (!zone || !event.dataTransfer) { return; }
    event.preventDefault();
    var form = zone.closest("form");
    var items = Array.prototype.slice.call(event.dataTransfer.items || []);
    var entries = items.map(function (item) {
      return item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
    });
    if (form && form.id === "upload-form" && entries.length && entries.every(Boolean)) {
      Promise.all(entries.map(function (entry) {
        // A file dropped on its own is sent whatever its name: the server says why it is refused.
        if (entry.isFile) {
          return new Promise(function (resolve) { entry.file(function (f) { resolve([f]); }, function () { resolve([]); }); });
        }
        return readEntry(entry, "");
      })).then(function (lists) {
        dropped = dropped.concat([].concat.apply([], lists));
        describeChosen(form);
      });
      return;
    }
    if (event.dataTransfer.files.length) {
      zone.querySelector("input[type=file]").files = event.dataTransfer.files;
      if (form) { describeChosen(form); }
    }
  });

  // Drag to reorder a collection, or use its move up/down buttons; the new order is saved at once.
  function saveOrder(list, moved) {
    var body = new URLSearchParams();
    list.querySelectorAll("li[data-sample]").forEach(function (li) { body.append("sample", li.dataset.sample); });
    var note = document.getElementById("order-status");
    return fetch(list.dataset.orderUrl, { method: "POST", body: body, headers: csrfHeaders(), credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        if (note) { note.textContent = (moved ? moved + " " : "") + "Order saved."; }
      })
      .catch(function () { if (note) { note.textContent = "The new order could not be saved; reload and try again."; } });
  }

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
    saveOrder(list);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".move-button");
    if (!button) { return; }
    var item = button.closest(".sortable > li");
    var list = item.parentNode;
    var up = button.dataset.move === "up";
    var other = up ? item.previousElementSibling : item.nextElementSibling;
    if (!other) { return; }
    list.insertBefore(item, up ? other : other.nextSibling);
    // Focus stays on the same button, so pressing it again keeps moving the sample.
    button.focus();
    var items = Array.prototype.slice.call(list.children);
    items.forEach(function (li, index) {
      li.querySelector("[data-move=up]").setAttribute("aria-disabled", index === 0 ? "true" : "false");
      li.querySelector("[data-move=down]").setAttribute("aria-disabled", index === items.length - 1 ? "true" : "false");
    });
    saveOrder(list, "Moved to position " + (items.indexOf(item) + 1) + " of " + items.length + ".");
  });
})();
