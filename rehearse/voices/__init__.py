"""Voices for reading questions aloud: Kokoro-82M offline (weights, G2P, engine), the system voices,
and the audio cache that lets the next question be ready before it is needed."""
