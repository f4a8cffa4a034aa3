/* Page behaviour: the filter panel, per-file uploads, drag to reorder. Listening is player.js. */
(function () {
  "use strict";

  // The side panel folds away for a full-width list; a cookie keeps the choice for the next page.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest(".panel-toggle");
    if (!toggle) { return; }
    var workspace = document.querySelector(".workspace");
    var closed = workspace.classList.toggle("workspace--panel-closed");
    toggle.setAttribute("aria-expanded", closed ? "false" : "true");
    document.cookie = "side_panel=" + (closed ? "closed" : "open") + "; path=/; max-age=31536000; samesite=lax";
  });

  // Copy buttons (the new API key's secret).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var field = document.querySelector(button.dataset.copy);
    var status = document.getElementById("copy-status");
    field.select();
    var done = function () { if (status) { status.textContent = "Copied to the clipboard."; } button.textContent = "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });

  // A sort or similar select applies at once.
  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-autosubmit]");
    if (select && select.form) { select.form.requestSubmit(); }
  });

  // The bulk bar shows only the field its chosen action needs.
  function showBulkFields() {
    var action = document.getElementById("bulk-action");
    if (!action) { return; }
    document.querySelectorAll("#bulk-form [data-for-action]").forEach(function (label) {
      label.hidden = label.dataset.forAction !== action.value;
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.id === "bulk-action") { showBulkFields(); }
  });
  showBulkFields();

  // Uploads start as soon as files arrive: one batch job for the lot, then each file on its
  // own request (a progress bar each) with its path in the folder, which becomes tags.
  var AUDIO_NAME = /\.(wav|wave|aif|aiff|aifc|flac|ogg|oga|mp3|zip)$/i;
  var UPLOADS_AT_ONCE = 2;

  function csrfHeaders() {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}");
  }

  function queueRow(item) {
    var row = document.createElement("li");
    row.className = "upload-item upload-item--sending";
    var name = document.createElement("span");
    name.className = "upload-item__name";
    name.textContent = item.path;
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Uploading " + item.path);
    var state = document.createElement("span");
    state.className = "muted upload-item__state";
    state.textContent = "Waiting";
    row.append(name, bar, state);
    return row;
  }

  function failed(row, reason) {
    row.className = "upload-item upload-item--failed";
    var bar = row.querySelector("progress");
    if (bar) { bar.remove(); }
    var state = row.querySelector(".upload-item__state");
    state.setAttribute("role", "alert");
    state.textContent = reason;
  }

  // "Keep anyway" on a file refused as a near-duplicate: send it again with keep_duplicate=1.
  // (A zip is sent again whole: its members kept before are answered as exact duplicates.)
  function keepAnyway(url, item, collections, rows) {
    var again = { file: item.file, path: item.path, summaryUrl: item.summaryUrl };
    again.row = queueRow(again);
    var copies = rows.filter(function (li) { return li.querySelector("[data-keep-duplicate]"); });
    copies[0].replaceWith(again.row);
    copies.slice(1).forEach(function (li) { li.remove(); });
    sendOne(url, again, collections, function () {
      var box = document.getElementById("upload-summary");
      if (again.summaryUrl && box.childElementCount) { showSummary(again.summaryUrl); }
    }, true);
  }

  function sendOne(url, item, collections, done, keep) {
    var row = item.row;
    var bar = row.querySelector("progress");
    var state = row.querySelector(".upload-item__state");
    var body = new FormData();
    body.append("files", item.file, item.file.name);
    body.append("path", item.path);
    if (collections) { body.append("collections", "1"); }
    if (keep) { body.append("keep_duplicate", "1"); }
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
        if (rows.length) { row.replaceWith.apply(row, rows); } else { row.remove(); }
        rows.forEach(function (li) {
          if (window.htmx) { window.htmx.process(li); }
          var keepButton = li.querySelector("[data-keep-duplicate]");
          if (keepButton) {
            keepButton.addEventListener("click", function () { keepAnyway(url, item, collections, rows); });
          }
        });
      } else {
        notSent(url, item, row, xhr.status === 413 ? (xhr.responseText || "The file is too large.") : "The server refused it (" + xhr.status + ").");
      }
      done();
    };
    xhr.onerror = function () { notSent(url, item, row, "The connection dropped; try again."); done(); };
    xhr.send(body);
  }

  // A file the server never stored still belongs to the job: say so, so its summary is complete.
  function notSent(url, item, row, reason) {
    failed(row, reason);
    var body = new URLSearchParams({ path: item.path, not_sent: reason });
    fetch(url, { method: "POST", body: body, headers: csrfHeaders(), credentials: "same-origin" }).catch(function () {});
  }

  function showSummary(url) {
    var box = document.getElementById("upload-summary");
    fetch(url + "?fragment=1", { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        box.innerHTML = html;
        if (window.htmx) { window.htmx.process(box); }
      });
  }

  function startUpload(form, items) {
    var list = document.getElementById("upload-queue");
    var note = document.getElementById("upload-chosen");
    document.getElementById("upload-queue-heading").hidden = false;
    items = items.filter(function (item) { return item.dropped || AUDIO_NAME.test(item.file.name); });
    if (!items.length) {
      note.textContent = "No audio files or zips there.";
      return;
    }
    note.textContent = "Uploading " + items.length + " file" + (items.length === 1 ? "" : "s") + "…";
    list.textContent = "";
    document.getElementById("upload-summary").textContent = "";
    items.forEach(function (item) { item.row = queueRow(item); list.append(item.row); });
    var collections = form.querySelector("#upload-collections").checked;
    var body = new URLSearchParams({ total: String(items.length) });
    fetch(form.dataset.batchesUrl, { method: "POST", body: body, headers: csrfHeaders(), credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (job) {
        items.forEach(function (item) { item.summaryUrl = job.summary_url; });
        var waiting = items.slice();
        var running = 0;
        function next() {
          var item = waiting.shift();
          if (!item) {
            if (running === 0) {
              note.textContent = "Upload finished.";
              showSummary(job.summary_url);
            }
            return;
          }
          running += 1;
          sendOne(job.files_url, item, collections, function () { running -= 1; next(); });
        }
        for (var i = 0; i < UPLOADS_AT_ONCE; i += 1) { next(); }
      })
      .catch(function (error) {
        items.forEach(function (item) { failed(item.row, "The upload could not start (" + error.message + ")."); });
      });
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    var form = input.closest && input.closest("#upload-form");
    if (!form || input.type !== "file" || !input.files.length) { return; }
    var items = Array.prototype.map.call(input.files, function (file) {
      return { file: file, path: file.webkitRelativePath || file.name, dropped: !file.webkitRelativePath };
    });
    input.value = "";
    startUpload(form, items);
  });

  // Folders dropped on the drop zone are walked for their files (DataTransferItem entries).
  function readEntry(entry, path) {
    if (entry.isFile) {
      return new Promise(function (resolve) {
        entry.file(function (file) {
          resolve(AUDIO_NAME.test(file.name) ? [{ file: file, path: path + file.name }] : []);
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
    var zone = event.target.closest("#dropzone");
    if (zone) { event.preventDefault(); zone.classList.add("is-over"); }
  });
  document.addEventListener("dragleave", function (event) {
    var zone = event.target.closest("#dropzone");
    if (zone) { zone.classList.remove("is-over"); }
  });
  document.addEventListener("drop", function (event) {
    var zone = event.target.closest("#dropzone");
    if (!zone || !event.dataTransfer) { return; }
    event.preventDefault();
    zone.classList.remove("is-over");
    var form = zone.closest("form");
    var items = Array.prototype.slice.call(event.dataTransfer.items || []);
    var entries = items.map(function (item) {
      return item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
    });
    if (form && form.id === "upload-form" && entries.length && entries.every(Boolean)) {
      Promise.all(entries.map(function (entry) {
        // A file dropped on its own is sent whatever its name: the server says why it is refused.
        if (entry.isFile) {
          return new Promise(function (resolve) {
            entry.file(function (f) { resolve([{ file: f, path: f.name, dropped: true }]); }, function () { resolve([]); });
          });
        }
        return readEntry(entry, "");
      })).then(function (lists) { startUpload(form, [].concat.apply([], lists)); });
      return;
    }
    var input = zone.querySelector("input[type=file]");
    if (event.dataTransfer.files.length && input) {
      input.files = event.dataTransfer.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
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
