"""Input devices: list them, resolve --device, and turn PortAudio's failures into one clear line.

Device problems (no input device, unknown device, busy, permission denied)
raise :class:`~rehearse.errors.DeviceError`, naming the device and ``rehearse devices``.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from typing import Any

from rehearse.errors import DeviceError

DEVICES_HINT = "run 'rehearse devices' to list input devices and pick one with --device"


@dataclass(frozen=True)
class InputDevice:
    """One PortAudio device that can record."""

    index: int
    name: str
    hostapi: str
    channels: int
    default_samplerate: float
    is_default: bool = False


def sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as exc:  # the PortAudio library itself is missing
        raise DeviceError(f"PortAudio is not installed ({exc}); install it (Debian/Ubuntu: "
                          "apt-get install libportaudio2; macOS: brew install portaudio).") from None
    return sounddevice


def input_devices() -> list[InputDevice]:
    """Every device with at least one input channel, as PortAudio sees it now."""
    sd = sounddevice()
    try:
        devices = sd.query_devices()
        apis = sd.query_hostapis()
        default_in = sd.default.device[0]
    except sd.PortAudioError as exc:
        raise DeviceError(f"Cannot list audio devices: {exc}.") from None
    out = []
    for i, d in enumerate(devices):
        if d["max_input_channels"] > 0:
            out.append(InputDevice(i, d["name"], apis[d["hostapi"]]["name"], int(d["max_input_channels"]),
                                   float(d["default_samplerate"]), i == default_in))
    return out


def _no_device_hint() -> str:
    """Why there may be no input device on this machine (permissions first, they are fixable)."""
    reasons = []
    server = os.environ.get("PULSE_SERVER", "")
    sock = server[len("unix:"):] if server.startswith("unix:") else ""
    if not sock and os.environ.get("XDG_RUNTIME_DIR"):
        sock = os.path.join(os.environ["XDG_RUNTIME_DIR"], "pulse", "native")
    if sock:
        try:
            os.stat(sock)
            denied = not os.access(sock, os.R_OK | os.W_OK)
        except PermissionError:
            denied = True
        except OSError:
            denied = False
        if denied:
            reasons.append(f"permission denied on the sound server socket {sock}")
    if os.path.isdir("/dev/snd") and not os.access("/dev/snd", os.R_OK | os.X_OK):
        reasons.append("permission denied on /dev/snd (add yourself to the 'audio' group)")
    return "; ".join(reasons)


def resolve_device(spec: str | int | None = None) -> InputDevice:
    """The input device for ``spec``: None = the default, an index, or (part of) a name."""
    devices = input_devices()
    if not devices:
        why = _no_device_hint()
        if why:
            raise DeviceError(f"Cannot use the default input device: {why}; fix the permission, or "
                              f"{DEVICES_HINT}.")
        raise DeviceError("No input device found (is a microphone connected and the sound server running?); "
                          f"{DEVICES_HINT}.")
    if spec is None or spec == "":
        default = [d for d in devices if d.is_default]
        return default[0] if default else devices[0]
    text = str(spec).strip()
    if text.lstrip("-").isdigit():
        for d in devices:
            if d.index == int(text):
                return d
        raise DeviceError(f"Input device {text} does not exist or cannot record; {DEVICES_HINT}.")
    exact = [d for d in devices if d.name.lower() == text.lower()]
    found = exact or [d for d in devices if text.lower() in d.name.lower()]
    if len(found) == 1:
        return found[0]
    names = ", ".join(f"{d.index}: {d.name}" for d in devices)
    if not found:
        raise DeviceError(f"No input device matches '{text}' (available: {names}); {DEVICES_HINT}.")
    raise DeviceError(f"'{text}' matches several input devices ({', '.join(d.name for d in found)}); "
                      f"give its number instead; {DEVICES_HINT}.")


def open_error(exc: Exception, device: InputDevice | str) -> DeviceError:
    """Turn a PortAudio error on opening ``device`` into a clear :class:`DeviceError`."""
    name = device.name if isinstance(device, InputDevice) else str(device)
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    code = args[1] if len(args) > 1 and isinstance(args[1], int) else 0
    host = args[2] if len(args) > 2 and isinstance(args[2], tuple) and len(args[2]) == 3 else (None, 0, "")
    text = f"{exc} {host[2]}".lower()
    host_code = abs(int(host[1] or 0))
    if code == -9985 or host_code == errno.EBUSY or "unavailable" in text or "busy" in text:
        return DeviceError(f"Input device '{name}' is busy (another program is using it): close that program, "
                           f"or {DEVICES_HINT}.")
    if host_code in (errno.EACCES, errno.EPERM) or "permission" in text or "access denied" in text \
            or "not permitted" in text:
        return DeviceError(f"Permission denied opening input device '{name}': allow this terminal to use the "
                           f"microphone (macOS: System Settings > Privacy & Security > Microphone; Linux: the "
                           f"'audio' group), or {DEVICES_HINT}.")
    if code in (-9996, -9998, -9997) or "invalid device" in text or "invalid number of channels" in text \
            or "sample rate" in text:
        return DeviceError(f"Input device '{name}' cannot record 16 kHz mono ({exc}); {DEVICES_HINT}.")
    return DeviceError(f"Could not open input device '{name}' ({exc}); {DEVICES_HINT}.")
