// The report: click a word to hear it; corrections; score a kept answer.
"use strict";
(function () {
  const token = document.querySelector('meta[name="rehearse-token"]').content;
  const report = document.getElementById("report");
  const attempt = report.dataset.attempt;
  const audio = document.getElementById("audio");
  const transcript = document.getElementById("transcript");

  async function post(path, body) {
    const r = await fetch(path, { method: "POST", headers: { "X-Rehearse-Token": token, "Content-Type": "application/json" },
                                  body: JSON.stringify(body || {}) });
    let data = {};
    try { data = await r.json(); } catch (e) { /* not JSON */ }
    return { ok: r.ok, status: r.status, data: data };
  }

  // which key point a highlight is evidence for, and how it matched: on hover (its title) and on a tap or click,
  // which touch screens need (they have no hover)
  const markNote = document.getElementById("mark-note");
  if (transcript && markNote) {
    transcript.addEventListener("click", (e) => {
      const m = e.target.closest("mark");
      markNote.textContent = m && m.title ? m.title : "";
    });
  }

  if (transcript && audio) {
    transcript.addEventListener("click", (e) => {
      const w = e.target.closest(".w");
      if (!w) return;
      audio.currentTime = parseFloat(w.dataset.t);
      audio.play().catch(() => { /* autoplay refused: the position is still set */ });
    });
    const words = Array.from(transcript.querySelectorAll(".w"));
    let lit = null;
    audio.addEventListener("timeupdate", () => {
      const t = audio.currentTime;
      let cur = null;
      for (const w of words) { if (parseFloat(w.dataset.t) <= t) cur = w; else break; }
      if (lit !== cur) { if (lit) lit.classList.remove("playing"); if (cur && !audio.paused) cur.classList.add("playing"); lit = cur; }
    });
  }

  const note = document.getElementById("correction");
  document.querySelectorAll("button.said, button.not-said").forEach((b) => {
    b.addEventListener("click", async () => {
      const said = b.classList.contains("said");
      const selected = said ? String(window.getSelection() || "").trim() : "";
      const body = { point_id: b.dataset.point, said: said };
      if (selected && transcript && transcript.contains(window.getSelection().anchorNode)) body.span = selected;
      let r;
      try { r = await post("/api/attempts/" + attempt + "/corrections", body); }
      catch (e) { note.textContent = "The server cannot be reached: the correction was not stored."; note.className = "message error"; return; }
      if (!r.ok) { note.textContent = r.data.error || "Not stored."; note.className = "message error"; return; }
      note.textContent = r.data.line; note.className = "message ok";
      setTimeout(() => window.location.reload(), 600);
    });
  });

  const scoreNow = document.getElementById("score-now");
  if (scoreNow) {
    scoreNow.addEventListener("click", async () => {
      const msg = document.getElementById("message");
      scoreNow.disabled = true; msg.textContent = "Transcribing and scoring…";
      let r;
      try { r = await post("/api/attempts/" + attempt + "/score"); }
      catch (e) { msg.textContent = "The server cannot be reached."; scoreNow.disabled = false; return; }
      if (!r.ok) { msg.textContent = r.data.error || "Scoring failed."; msg.className = "message error"; scoreNow.disabled = false; return; }
      window.location.reload();
    });
  }
  window.rehearseReady = true;
})();
