// Hands the microphone's samples (mono, float32, the context's rate) to the page in blocks of
// BLOCK samples (~43 ms at 48 kHz): one message per 128-sample render quantum would be ~375
// messages a second, and the main thread's work per message competes with the transcriber for CPU.
const BLOCK = 2048;
class PcmTap extends AudioWorkletProcessor {
  constructor() {
    super();
    this.block = new Float32Array(BLOCK);
    this.filled = 0;
    // "flush": hand over the partial block as {last: samples}, so the page knows it has everything
    this.port.onmessage = (ev) => {
      if (ev.data === "flush") { const out = this.take(); this.port.postMessage({ last: out }, [out.buffer]); }
    };
  }
  take() {
    const out = this.block.slice(0, this.filled);
    this.filled = 0;
    return out;
  }
  process(inputs) {
    const input = inputs[0];
    if (input && input.length > 0 && input[0].length > 0) {
      const x = input[0];
      let i = 0;
      while (i < x.length) {
        const n = Math.min(x.length - i, BLOCK - this.filled);
        this.block.set(x.subarray(i, i + n), this.filled);
        this.filled += n; i += n;
        if (this.filled === BLOCK) { const out = this.take(); this.port.postMessage(out, [out.buffer]); }
      }
    }
    return true;
  }
}
registerProcessor("pcm-tap", PcmTap);
