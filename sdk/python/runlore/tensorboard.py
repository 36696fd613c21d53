"""TensorBoard capture: `runlore.init(..., sync_tensorboard=True)` or
`runlore.tensorboard.patch()` makes `tensorboardX.SummaryWriter` and
`torch.utils.tensorboard.SummaryWriter` also log to the run, while they
still write their event files.

Captured: `add_scalar` and `add_scalars` as metrics (`main/sub` keys for
`add_scalars`), `add_hparams` as params plus metrics, `add_text` as text
media and `add_image` as image media (CHW tensors and arrays included).
"""

import importlib

_WRITERS = ("tensorboardX", "torch.utils.tensorboard")
_patched = {}
_target = {"run": None}


def _current_run():
    run = _target["run"]
    if run is not None and not run.finished:
        return run
    from . import _run

    run = _run.active_run()
    return run if run is not None and not run.finished else None


def _number(value):
    if hasattr(value, "item"):
        value = value.item()
    return float(value)


def _wrap(cls):
    original = {name: getattr(cls, name)
                for name in ("add_scalar", "add_scalars", "add_hparams", "add_text", "add_image")}

    def add_scalar(self, tag, scalar_value, global_step=None, *args, **kwargs):
        result = original["add_scalar"](self, tag, scalar_value, global_step, *args, **kwargs)
        run = _current_run()
        if run is not None:
            run.log_metric(tag, _number(scalar_value),
                           step=None if global_step is None else int(global_step))
        return result

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, *args, **kwargs):
        result = original["add_scalars"](self, main_tag, tag_scalar_dict, global_step,
                                         *args, **kwargs)
        run = _current_run()
        if run is not None:
            step = None if global_step is None else int(global_step)
            for sub, value in tag_scalar_dict.items():
                run.log_metric(f"{main_tag}/{sub}", _number(value), step=step)
        return result

    def add_hparams(self, hparam_dict, metric_dict, *args, **kwargs):
        result = original["add_hparams"](self, hparam_dict, metric_dict, *args, **kwargs)
        run = _current_run()
        if run is not None:
            run.log_params({k: v for k, v in hparam_dict.items()})
            for key, value in metric_dict.items():
                run.log_metric(key, _number(value))
        return result

    def add_text(self, tag, text_string, global_step=None, *args, **kwargs):
        result = original["add_text"](self, tag, text_string, global_step, *args, **kwargs)
        run = _current_run()
        if run is not None:
            run.log_text(_media_key(tag), text_string,
                         step=None if global_step is None else int(global_step))
        return result

    def add_image(self, tag, img_tensor, global_step=None, *args, **kwargs):
        result = original["add_image"](self, tag, img_tensor, global_step, *args, **kwargs)
        run = _current_run()
        if run is not None:
            dataformats = kwargs.get("dataformats", args[1] if len(args) > 1 else "CHW")
            run.log_image(_media_key(tag), _image_array(img_tensor, dataformats),
                          step=None if global_step is None else int(global_step))
        return result

    cls.add_scalar, cls.add_scalars, cls.add_hparams = add_scalar, add_scalars, add_hparams
    cls.add_text, cls.add_image = add_text, add_image
    return original


def _media_key(tag):
    """TensorBoard tags may hold characters a media key may not."""
    return "".join(c if c.isalnum() or c in "_-." else "_" for c in tag).strip("_") or "image"


def _image_array(img, dataformats):
    """A tensor or array in the writer's `dataformats` as an H×W×C array."""
    import numpy as np

    if hasattr(img, "detach"):
        img = img.detach().cpu().numpy()
    array = np.asarray(img)
    order = dataformats.upper()
    if array.ndim == 2 or order == "HW":
        return array
    if order == "CHW":
        return np.moveaxis(array, 0, -1)
    return array


def patch(run=None):
    """Hooks every importable SummaryWriter; returns the modules patched.
    `run` pins the target run; by default the latest `runlore.init` run."""
    if run is not None:
        _target["run"] = run
    done = []
    for name in _WRITERS:
        if name in _patched:
            done.append(name)
            continue
        try:
            module = importlib.import_module(name)
        except Exception:  # noqa: BLE001 - missing or broken optional package
            continue
        cls = getattr(module, "SummaryWriter", None)
        if cls is None:
            continue
        _patched[name] = (cls, _wrap(cls))
        done.append(name)
    return done


def unpatch():
    """Restores the writers' own methods."""
    for name, (cls, original) in list(_patched.items()):
        for method, function in original.items():
            setattr(cls, method, function)
        del _patched[name]
    _target["run"] = None
