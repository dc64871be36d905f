// The question card: read aloud, record (button or space bar), stream PCM chunks to the server, then the report.
// Every chunk is also kept in this page until the server has it, so a dropped connection loses nothing:
// if the server cannot be reached at the end, the answer can be downloaded as a WAV from here.
"use strict";
(function () {
  const token = document.querySelector('meta[name="rehearse-token"]').content;
  const card = document.getElementById("card");
  const button = document.getElementById("record");
  const timer = document.getElementById("timer");
  const levelBar = document.getElementById("level-bar");
  const message = document.getElementById("message");
  const download = document.getElementById("download");
  const questionId = card.dataset.question;
  const language = card.dataset.language;
  const target = parseFloat(card.dataset.target) || 0;
  const CHUNK_MS = 250;

  let state = "idle";          // idle | starting | recording | stopping
  let ctx = null, stream = null, node = null, source = null;
  let recId = null, rate = 0, seq = 0, pending = [], sending = false, serverDown = false;
  let kept = [];               // every Int16Array captured, in order (for the download fallback)
  let buffer = [], buffered = 0, flushTimer = null, tick = null, startedAt = 0;
  let level = 0;               // the loudest sample since the level bar was last drawn
  let tapFlushed = null;       // resolves when the worklet has handed over its last partial block

  function say(text, kind) {
    message.textContent = text;
    message.className = "message" + (kind ? " " + kind : "");
  }

  function fmt(s) {
    s = Math.max(0, Math.floor(s));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  async function api(path, body, type) {
    const init = { method: "POST", headers: { "X-Rehearse-Token": token } };
    if (type === "json") {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    } else if (body) {
      init.headers["Content-Type"] = "application/octet-stream";
      init.body = body;
    }
    const r = await fetch(path, init);
    let data = {};
    try { data = await r.json(); } catch (e) { /* not JSON */ }
    return { ok: r.ok, status: r.status, data: data };
  }

  // ---- read the question aloud (the browser's voice; a Mandarin one for Mandarin questions)
  function voicesSoon() {
    // Chromium fills the voice list asynchronously: wait for it briefly
    if (!("speechSynthesis" in window)) return Promise.resolve([]);
    const now = speechSynthesis.getVoices();
    if (now.length) return Promise.resolve(now);
    return new Promise((res) => {
      const done = () => res(speechSynthesis.getVoices());
      speechSynthesis.addEventListener("voiceschanged", done, { once: true });
      setTimeout(done, 700);
    });
  }

  async function speak() {
    const want = language === "zh" ? "zh" : "en";
    const voices = await voicesSoon();
    // Mandarin: a mainland voice first (zh-CN, then Taiwan), never a Cantonese one (zh-HK, yue) before them
    const rank = (v) => { const l = v.lang.toLowerCase().replace("_", "-");
      return want !== "zh" ? 0 : l.startsWith("zh-cn") || l === "zh" || l.startsWith("cmn") ? 0 : l.startsWith("zh-tw") ? 1 : 2; };
    const fitting = voices.filter(v => v.lang && (v.lang.toLowerCase().startsWith(want) ||
      (want === "zh" && v.lang.toLowerCase().startsWith("cmn"))) && !/^(zh-hk|yue)/i.test(v.lang.replace("_", "-")))
      .sort((a, b) => rank(a) - rank(b));
    if (!fitting.length) {
      // no voice for the question's language here (Linux browsers rarely have Mandarin): rehearse's own TTS
      const audio = new Audio("/questions/" + encodeURIComponent(questionId) + "/speech.wav");
      audio.play().catch(() => say("This browser has no " + (want === "zh" ? "Mandarin" : "English") +
        " voice and rehearse's text-to-speech is not available: read the question on screen.", "warn"));
      return;
    }
    const u = new SpeechSynthesisUtterance(document.getElementById("question-text").textContent);
    u.voice = fitting[0]; u.lang = fitting[0].lang;
    speechSynthesis.cancel();
    speechSynthesis.speak(u);
  }
  document.getElementById("speak").addEventListener("click", speak);

  // ---- capture
  function capturable() {
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return "The browser allows the microphone only on localhost or HTTPS: open http://127.0.0.1:PORT/ on the computer running rehearse serve.";
    }
    if (!window.AudioContext || !window.AudioWorkletNode) {
      return "This browser cannot hand raw audio to the page (no AudioWorklet): use a current Chromium, Firefox or Safari.";
    }
    return null;
  }

  function micError(e) {
    const name = e && e.name;
    if (name === "NotAllowedError" || name === "SecurityError") return "Microphone permission denied: allow the microphone for this page (the icon in the address bar), then press Record again.";
    if (name === "NotFoundError" || name === "OverconstrainedError") return "No microphone found: plug one in (or pick one in the system settings), then press Record again.";
    if (name === "NotReadableError" || name === "AbortError") return "The microphone is in use by another program or could not be opened: close that program, then press Record again.";
    return "Could not start the microphone: " + (e && e.message ? e.message : e);
  }

  async function start() {
    const problem = capturable();
    if (problem) { say(problem, "error"); return; }
    state = "starting";
    button.disabled = true;
    say("Starting…");
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    } catch (e) {
      state = "idle"; button.disabled = false; say(micError(e), "error"); return;
    }
    try {
      ctx = new AudioContext();
      await ctx.audioWorklet.addModule("/static/pcm-worklet.js");
    } catch (e) {
      release(); state = "idle"; button.disabled = false;
      say("This browser could not set up audio capture (" + e.message + ").", "error"); return;
    }
    rate = ctx.sampleRate;
    let r;
    try {
      r = await api("/api/recordings", { question_id: questionId, sample_rate: Math.round(rate) }, "json");
    } catch (e) {
      release(); state = "idle"; button.disabled = false;
      say("The rehearse server cannot be reached: is 'rehearse serve' still running?", "error"); return;
    }
    if (!r.ok) {
      release(); state = "idle"; button.disabled = false;
      say(r.data.error || ("The server refused to start a recording (" + r.status + ")."), "error"); return;
    }
    recId = r.data.id; seq = 0; pending = []; kept = []; buffer = []; buffered = 0; serverDown = false;
    source = ctx.createMediaStreamSource(stream);
    node = new AudioWorkletNode(ctx, "pcm-tap");
    node.port.onmessage = (ev) => {
      if (ev.data && ev.data.last) { take(ev.data.last); if (tapFlushed) tapFlushed(); } else take(ev.data);
    };
    source.connect(node);
    flushTimer = setInterval(flush, CHUNK_MS);
    startedAt = performance.now();
    tick = setInterval(showTime, 100);
    state = "recording";
    button.textContent = "■ Stop";
    button.classList.add("on");
    button.disabled = false;
    download.hidden = true;
    say("Recording — speak now. Space bar or Stop when you are done.", "ok");
    stream.getAudioTracks()[0].addEventListener("ended", () => {
      if (state === "recording") { say("The microphone went away: what you said so far is kept.", "warn"); stop(); }
    });
  }

  function take(samples) {
    const pcm = new Int16Array(samples.length);
    let peak = 0;
    for (let i = 0; i < samples.length; i++) {
      const s = Math.max(-1, Math.min(1, samples[i]));
      pcm[i] = s < 0 ? s * 0x8000 : s * 0x7fff;
      peak = Math.max(peak, Math.abs(s));
    }
    buffer.push(pcm); buffered += pcm.length;
    level = Math.max(level, peak);   // drawn with the timer, not per block: style changes cost CPU the transcriber needs
  }

  function flush() {
    if (!buffered) return;
    const out = new Int16Array(buffered);
    let at = 0;
    for (const b of buffer) { out.set(b, at); at += b.length; }
    buffer = []; buffered = 0;
    kept.push(out);
    pending.push({ seq: seq++, data: out });
    pump();
  }

  async function pump() {
    if (sending) return;
    sending = true;
    try {
      while (pending.length) {
        const c = pending[0];
        let r;
        try {
          r = await api("/api/recordings/" + recId + "/chunks/" + c.seq, c.data.buffer, "bytes");
        } catch (e) {
          if (!serverDown) say("The server cannot be reached: keep talking, your answer is kept in this page and sent when it is back.", "warn");
          serverDown = true;
          await new Promise(res => setTimeout(res, 1000));
          if (state === "idle") return;
          continue;
        }
        if (serverDown) { serverDown = false; say("Connected again — recording.", "ok"); }
        if (r.ok) { pending.shift(); if (r.data.stopped && state === "recording") { say("The time limit was reached: stopping.", "warn"); stop(); } continue; }
        if (r.status === 413) { pending = []; say(r.data.error, "warn"); if (state === "recording") stop(); return; }
        pending = [];
        serverDown = true;
        say((r.data.error || ("The server refused the audio (" + r.status + ").")) + " Your answer is kept in this page.", "error");
        return;
      }
    } finally {
      sending = false;
    }
  }

  function showTime() {
    const s = (performance.now() - startedAt) / 1000;
    timer.textContent = fmt(s) + (target ? " / " + fmt(target) : "");
    timer.classList.toggle("over", target > 0 && s > target);
    levelBar.style.width = Math.min(100, Math.round(level * 140)) + "%";
    level = 0;
  }

  function release() {
    if (source) { try { source.disconnect(); } catch (e) { /* gone */ } }
    if (node) { node.port.onmessage = null; }
    if (stream) stream.getTracks().forEach(t => t.stop());
    if (ctx) ctx.close();
    clearInterval(flushTimer); clearInterval(tick);
    source = node = stream = ctx = null;
    levelBar.style.width = "0";
  }

  function lastBlock(ms) {
    // the worklet posts whole blocks; ask for the partial one it holds, so the recording ends where Stop was pressed
    if (!node) return Promise.resolve();
    return new Promise(res => {
      const done = () => { tapFlushed = null; res(); };
      tapFlushed = done;
      node.port.postMessage("flush");
      setTimeout(done, ms);
    });
  }

  async function drained(ms) {
    const until = performance.now() + ms;
    while ((pending.length || sending) && performance.now() < until && !serverDown) {
      await new Promise(res => setTimeout(res, 20));
    }
    return pending.length === 0 && !sending;
  }

  async function stop(pressedAt) {
    if (state !== "recording") return;
    state = "stopping";
    button.disabled = true;
    // when the click or key press happened (the event's own time), so a busy page's input delay is counted
    const at = typeof pressedAt === "number" ? pressedAt : performance.now();
    const clickedAt = performance.timeOrigin + at, inputDelay = (performance.now() - at) / 1000;
    await lastBlock(200);
    flush();
    release();
    button.textContent = "● Record"; button.classList.remove("on");
    say("Scoring…");
    const t0 = performance.now();
    const ok = await drained(15000);
    const t1 = performance.now();
    if (!ok) { offerDownload("Not everything reached the server (is it still running?)."); return; }
    let r;
    try {
      r = await api("/api/recordings/" + recId + "/stop");
    } catch (e) {
      offerDownload("The server stopped before scoring."); return;
    }
    if (!r.ok) { offerDownload(r.data.error || ("Scoring failed (" + r.status + ").")); return; }
    state = "idle";
    try {  // where the time after stop went (benchmarks/web_latency.py reads it on the report page)
      sessionStorage.setItem("rehearse-stop", JSON.stringify({ clicked_at: clickedAt, input_delay_s: inputDelay, drain_s: (t1 - t0) / 1000,
        stop_s: (performance.now() - t1) / 1000, server_s: r.data.latency_s }));
    } catch (e) { /* storage off: nothing lost */ }
    const here = card.dataset.here;
    window.location.assign(r.data.report + (here ? "?" + here : ""));
  }

  function wav() {
    let n = 0; for (const k of kept) n += k.length;
    const view = new DataView(new ArrayBuffer(44 + n * 2));
    const w = (o, s) => { for (let i = 0; i < s.length; i++) view.setUint8(o + i, s.charCodeAt(i)); };
    w(0, "RIFF"); view.setUint32(4, 36 + n * 2, true); w(8, "WAVE"); w(12, "fmt ");
    view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
    view.setUint32(24, rate, true); view.setUint32(28, rate * 2, true); view.setUint16(32, 2, true);
    view.setUint16(34, 16, true); w(36, "data"); view.setUint32(40, n * 2, true);
    let at = 44;
    for (const k of kept) { for (let i = 0; i < k.length; i++, at += 2) view.setInt16(at, k[i], true); }
    return new Blob([view], { type: "audio/wav" });
  }

  function offerDownload(why) {
    state = "idle";
    button.disabled = false;
    say(why + " What reached the server is on disk there; the whole answer is kept in this page:", "error");
    const a = document.createElement("a");
    const blob = wav();
    a.href = URL.createObjectURL(blob);
    a.dataset.bytes = String(blob.size);
    a.download = questionId + "-answer.wav";
    a.textContent = "Download your answer (WAV)";
    a.className = "button";
    download.replaceChildren(a);
    download.hidden = false;
  }

  button.addEventListener("click", (e) => { if (state === "idle") start(); else if (state === "recording") stop(e.timeStamp); });
  document.addEventListener("keydown", (e) => {
    if (e.code !== "Space" || e.repeat) return;
    const t = e.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) return;
    e.preventDefault();
    if (state === "idle") start(); else if (state === "recording") stop(e.timeStamp);
  });
  window.addEventListener("beforeunload", (e) => {
    if (state === "recording" || state === "stopping") { e.preventDefault(); e.returnValue = ""; }
  });
  // the tab is closed (or left) anyway while recording: what reached the server is kept there as an answer to
  // score later, and the server is told at once, so another tab can record without waiting for its watchdog
  window.addEventListener("pagehide", () => {
    if (recId && state === "recording") {
      try {
        fetch("/api/recordings/" + recId + "/abandon", { method: "POST", keepalive: true,
          headers: { "X-Rehearse-Token": token } }).catch(() => {});
      } catch (e) { /* the server's watchdog keeps it */ }
    }
  });
  // what the page can do is known at once: say so before the user presses anything
  const problem = capturable();
  if (problem) say(problem, "error");
  button.disabled = false;
  window.rehearseReady = true;
})();
