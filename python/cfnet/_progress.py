"""The progress bar of ``fit(show_progress=True)``: cfnet's Keras-style bar written through Python's
``sys.stdout`` (so that it shows in Jupyter as on a terminal, and follows any redirection of
sys.stdout), or tqdm's bars with ``show_progress="tqdm"`` (``tqdm.auto``: a widget in Jupyter; Debian
python3-tqdm). The C++ fit loop calls it with the GIL taken: at every epoch's beginning and end, and
within an epoch at most every 100 ms (and at its last step), so a fast loop is not slowed by Python.

Live (a bar redrawn with carriage returns) when sys.stdout is a terminal or the code runs in a Jupyter
kernel; one line per epoch otherwise (log files, pipes, captured output)."""
import sys
import time


def _interactive(stream):
    if "ipykernel" in sys.modules:
        return True
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class ProgressBar:
    """What PyFitCallback (python/src/data.cpp) drives: on_train_begin(epochs, steps),
    on_epoch_begin(epoch), on_batch_end(step, loss), on_epoch_end(epoch, seconds, loss, metrics)."""

    WIDTH = 30

    def __init__(self, name="", use_tqdm=False):
        self.prefix = f"[{name}] " if name else ""
        self.epochs = 0
        self.steps = 0
        self.start = time.monotonic()
        self._tqdm_cls = None
        self._bar = None
        if use_tqdm:
            try:
                from tqdm.auto import tqdm
            except ImportError as e:  # pragma: no cover - depends on the machine
                raise ImportError("fit(show_progress='tqdm') needs tqdm (Debian: apt-get install python3-tqdm; "
                                  "pip install tqdm); show_progress=True writes cfnet's own bar") from e
            self._tqdm_cls = tqdm
        self.live = _interactive(sys.stdout)

    def on_train_begin(self, epochs, steps):
        self.epochs = epochs
        self.steps = steps

    def on_epoch_begin(self, epoch):
        self.start = time.monotonic()
        if self._tqdm_cls is not None:
            self._bar = self._tqdm_cls(total=self.steps, desc=f"{self.prefix}Epoch {epoch}/{self.epochs}",
                                       unit="step", file=sys.stdout, leave=True)
            return
        if self.live:
            sys.stdout.write(f"{self.prefix}Epoch {epoch}/{self.epochs}\n")
            sys.stdout.flush()

    def on_batch_end(self, step, loss):
        if self._bar is not None:
            self._bar.update(step - self._bar.n)
            self._bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
            return
        if not self.live:
            return
        elapsed = time.monotonic() - self.start
        per = elapsed / step if step else 0.0
        eta = per * max(self.steps - step, 0)
        filled = int(self.WIDTH * step / self.steps) if self.steps else self.WIDTH
        bar = "=" * min(filled, self.WIDTH) + "." * (self.WIDTH - min(filled, self.WIDTH))
        done = "done" if step >= self.steps else ""
        sys.stdout.write(f"\r{step}/{self.steps} [{bar}] {done} {elapsed:.1f}s ETA {eta:.1f}s "
                         f"{per * 1e3:.2f}ms/step - loss: {loss:.4f}")
        sys.stdout.flush()

    def on_epoch_end(self, epoch, seconds, loss, metrics):
        text = f"{seconds:.2f}s - loss: {loss:.4f}" + "".join(f" - {k}: {v:.4f}" for k, v in metrics.items())
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)
            self._bar.close()
            self._bar = None
            return
        if self.live:
            sys.stdout.write("\n" + text + "\n")
        else:
            sys.stdout.write(f"{self.prefix}Epoch {epoch}/{self.epochs} - {text}\n")
        sys.stdout.flush()
