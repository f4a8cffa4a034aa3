/* The sample page's waveform player (wavesurfer.js driving the page's <audio> element). */
(function () {
  "use strict";
  var container = document.getElementById("waveform");
  var media = document.getElementById("player-audio");
  var toggle = document.getElementById("player-toggle");
  if (!container || !media || !toggle || !window.WaveSurfer) { return; }

  var wave = window.WaveSurfer.create({
    container: container,
    media: media,
    height: 96,
    waveColor: "#9aa7b8",
    progressColor: "#2f5fd0",
    cursorColor: "#1b2430",
  });
  window.samplemindPlayer = wave;

  function show(playing) {
    toggle.textContent = playing ? "Pause" : "Play";
    toggle.setAttribute("aria-pressed", playing ? "true" : "false");
  }
  wave.on("play", function () { show(true); });
  wave.on("pause", function () { show(false); });
  wave.on("finish", function () { show(false); });
  toggle.addEventListener("click", function () {
    if (window.samplemindAudio) { window.samplemindAudio.pause(); }
    wave.playPause();
  });
})();
