"""C++ exceptions become Python exceptions of the matching kind, with the C++ message: InvalidArgument ->
ValueError, IoError (and ParseError) -> OSError, NumericalError -> cfnet.NumericalError."""
import numpy as np
import pytest
import scipy.sparse as sp

import cfnet
from conftest import small_ae


def test_invalid_arguments_are_value_errors(split):
    with pytest.raises(ValueError, match="AutoencoderOptions: learning_rate must be > 0"):
        cfnet.AutoencoderCF(learning_rate=-1.0)
    with pytest.raises(ValueError, match="no option 'learnig_rate'"):
        cfnet.AutoencoderCF(learnig_rate=0.1)
    with pytest.raises(ValueError, match="must be an integer"):
        cfnet.AutoencoderCF(epochs="many" if False else 2.5)
    with pytest.raises(ValueError, match="unknown preset"):
        cfnet.NeuralCF(preset="fastest")
    m = small_ae()
    with pytest.raises(ValueError, match="not fitted|fit"):
        m.recommend(0, sp.csr_matrix((1, 5), dtype=np.float32))
    m.fit(split.train, show_progress=False)
    with pytest.raises(ValueError, match="out of range"):
        m.recommend(10**6)
    with pytest.raises(ValueError, match="items"):
        m.recommend(0, sp.csr_matrix((1, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="scipy.sparse"):
        m.fit([[1, 2], [3, 4]])


def test_io_errors_are_os_errors(tmp_path):
    with pytest.raises(OSError, match="nothing-here"):
        cfnet.AutoencoderCF.load(str(tmp_path / "nothing-here.cfnet"))
    junk = tmp_path / "junk.cfnet"
    junk.write_bytes(b"not a model file")
    with pytest.raises(OSError, match="junk.cfnet"):
        cfnet.NeuralCF.load(str(junk))
    with pytest.raises(OSError):
        cfnet.load_movielens(str(tmp_path))


def test_another_models_file_is_an_os_error(split, tmp_path):
    p = str(tmp_path / "pop.cfnet")
    pop = cfnet.MostPopular()
    pop.fit(split.train)
    pop.save(p)
    with pytest.raises(OSError):
        cfnet.AutoencoderCF.load(p)


def test_divergence_is_a_numerical_error(split):
    assert issubclass(cfnet.NumericalError, ArithmeticError)
    huge = split.train.to_csr() * 1e30  # the squared error overflows float32 at once
    m = cfnet.AutoencoderCF(hidden=[8], epochs=2, learning_rate=10.0)
    with pytest.raises(cfnet.NumericalError, match="AutoencoderCF::fit: the loss became"):
        m.fit(huge, show_progress=False)
