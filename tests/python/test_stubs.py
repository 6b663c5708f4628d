"""The committed type stubs (python/cfnet/__init__.pyi) are what python/tools/gen_stubs.py writes from the
built module, so that editors show every option with its C++ default; the docstrings list them too."""
import importlib.util
import os

import cfnet

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def test_stubs_are_generated_from_the_module():
    spec = importlib.util.spec_from_file_location("gen_stubs", os.path.join(ROOT, "python", "tools", "gen_stubs.py"))
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    with open(os.path.join(ROOT, "python", "cfnet", "__init__.pyi")) as f:
        committed = f.read()
    assert committed == gen.generate(), "python/cfnet/__init__.pyi is stale: run python/tools/gen_stubs.py"


def test_help_lists_every_option_with_its_default():
    for cls in (cfnet.AutoencoderCF, cfnet.NeuralCF, cfnet.Ease, cfnet.MultVAE):
        doc = cls.__doc__
        for key, value in cls.default_options().items():
            assert f"    {key} = {value!r}" in doc, (cls.__name__, key)


def test_python_keywords_take_a_trailing_underscore():
    assert cfnet.Ease(lambda_=123.0).options["lambda"] == 123.0
