"""Turning images, tables and audio into files. numpy, PIL and pandas are
imported only when a value needs them."""

import io
import json
import wave


def image_png(image):
    """A PIL image or an array (H×W, H×W×3 or H×W×4; floats in 0–1 or
    integers in 0–255) as PNG bytes."""
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError("log_image needs Pillow: pip install Pillow") from e
    if not isinstance(image, Image.Image):
        import numpy as np

        array = np.asarray(image)
        if array.dtype.kind == "f":
            array = (np.clip(array, 0.0, 1.0) * 255).round()
        array = array.astype(np.uint8)
        if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[-1] not in (1, 3, 4):
            array = np.moveaxis(array, 0, -1)  # CHW (PyTorch) to HWC
        if array.ndim == 3 and array.shape[-1] == 1:
            array = array[..., 0]
        image = Image.fromarray(array)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def table_json(table, columns=None):
    """Rows (a list of lists or of dicts) or a pandas DataFrame as
    `{"columns": [...], "data": [[...], ...]}`."""
    if hasattr(table, "to_dict") and hasattr(table, "columns"):
        columns = [str(c) for c in table.columns]
        data = table.astype(object).where(table.notna(), None).values.tolist()
    else:
        rows = list(table)
        if rows and isinstance(rows[0], dict):
            columns = columns or list(dict.fromkeys(k for r in rows for k in r))
            data = [[r.get(c) for c in columns] for r in rows]
        else:
            data = [list(r) for r in rows]
            width = max((len(r) for r in data), default=0)
            columns = columns or [f"col{i}" for i in range(width)]
    return json.dumps({"columns": list(columns), "data": data}, default=str).encode()


def wav_bytes(samples, sample_rate):
    """Mono or multi-channel samples (floats in −1–1, or int16) as 16-bit
    PCM WAV."""
    import numpy as np

    array = np.asarray(samples)
    if array.dtype.kind == "f":
        array = (np.clip(array, -1.0, 1.0) * 32767).round()
    array = array.astype("<i2")
    channels = 1 if array.ndim == 1 else array.shape[1]
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(array.tobytes())
    return out.getvalue()
