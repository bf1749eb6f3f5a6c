"""inspect_onnx against models built on the fly: valid ones, hostile external data, and broken files."""

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper, numpy_helper

from registry.validation.onnx_model import ModelInvalid, inspect_onnx

OPSET = [helper.make_opsetid("", 17)]
# Kept before any test can patch it, for the model builders' own sanity check.
check_model = onnx.checker.check_model
IR_VERSION = 10


def gemm_relu_model(*, doc_string: str = "") -> onnx.ModelProto:
    """x[batch, 4] -> Gemm(W 4x3, B 3) -> If(true: Relu, else: Neg) -> y, output shape left unknown."""
    weights = numpy_helper.from_array(np.arange(12, dtype=np.float32).reshape(4, 3) / 10, "W")
    bias = numpy_helper.from_array(np.ones(3, dtype=np.float32), "B")
    branch_out = [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]
    then_branch = helper.make_graph([helper.make_node("Relu", ["h"], ["y"])], "then", [], branch_out)
    else_branch = helper.make_graph([helper.make_node("Neg", ["h"], ["y"])], "else", [], branch_out)
    nodes = [
        helper.make_node("Gemm", ["x", "W", "B"], ["h"]),
        helper.make_node("Constant", [], ["cond"], value=helper.make_tensor("c", TensorProto.BOOL, [], [True])),
        helper.make_node("If", ["cond"], ["y"], then_branch=then_branch, else_branch=else_branch),
    ]
    graph = helper.make_graph(
        nodes,
        "gemm_relu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        # The checker insists on a shape field for graph outputs, but its dims may all be unknown.
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, None])],
        [weights, bias],
    )
    model = helper.make_model(
        graph,
        opset_imports=OPSET,
        ir_version=IR_VERSION,
        producer_name="modelhub-tests",
        producer_version="0.1",
        doc_string=doc_string,
    )
    check_model(model, full_check=True)
    return model


def single_node_model(node: onnx.NodeProto, *, inputs, outputs, initializers=(), opsets=OPSET) -> onnx.ModelProto:
    graph = helper.make_graph([node], "single", inputs, outputs, list(initializers))
    return helper.make_model(graph, opset_imports=opsets, ir_version=IR_VERSION)


def save_external(model: onnx.ModelProto, path: Path, *, convert_attribute: bool = False) -> None:
    """Save with all initializers (and, with convert_attribute, Constant values) in weights.bin."""
    onnx.save_model(
        model,
        str(path),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="weights.bin",
        size_threshold=0,
        convert_attribute=convert_attribute,
    )


def relocate_external_data(model_path: Path, location: str) -> None:
    """Point every external tensor of the saved model at `location`, as a hostile uploader would."""
    model = onnx.load(str(model_path), load_external_data=False)
    for tensor in onnx.external_data_helper._get_all_tensors(model):
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = location
    onnx.save_model(model, str(model_path))


def inspect_error(model_path: Path, root: Path) -> ModelInvalid:
    with pytest.raises(ModelInvalid) as caught:
        inspect_onnx(model_path, root=root)
    return caught.value


@pytest.fixture
def version_dir(tmp_path):
    root = tmp_path / "version"
    root.mkdir()
    return root


@pytest.fixture
def nothing_may_load(monkeypatch):
    """Make every step that could open external data fail the test if it is reached."""

    def reached(*args, **kwargs):
        raise AssertionError("a loader ran although the external data was unsafe")

    monkeypatch.setattr(onnx.checker, "check_model", reached)
    monkeypatch.setattr(onnx.shape_inference, "infer_shapes_path", reached)
    monkeypatch.setattr(onnxruntime, "InferenceSession", reached)


# --- valid models -------------------------------------------------------------------------------------


def test_valid_model_is_fully_described(version_dir):
    model_path = version_dir / "onnx" / "model.onnx"
    model_path.parent.mkdir()
    onnx.save_model(gemm_relu_model(doc_string="d" * 3000), str(model_path))
    (version_dir / "README.md").write_text("hello")

    inspection = inspect_onnx(model_path, root=version_dir)

    assert inspection.ir_version == IR_VERSION
    assert inspection.opset_imports == {"ai.onnx": 17}
    assert (inspection.producer_name, inspection.producer_version) == ("modelhub-tests", "0.1")
    assert inspection.graph_name == "gemm_relu"
    assert inspection.doc_string == "d" * 2000
    assert inspection.inputs == [{"name": "x", "dtype": "float32", "shape": ["batch", 4]}]
    # The graph declared [None, None]; shape inference fills in the symbolic batch and the width.
    assert inspection.outputs == [{"name": "y", "dtype": "float32", "shape": ["batch", 3]}]
    assert inspection.signature == {"inputs": inspection.inputs, "outputs": inspection.outputs}
    # The If branches' nodes count too.
    assert inspection.operator_counts == {"Constant": 1, "Gemm": 1, "If": 1, "Neg": 1, "Relu": 1}
    assert inspection.parameter_count == 12 + 3
    assert inspection.files == [
        {"path": "README.md", "size": 5},
        {"path": "onnx/model.onnx", "size": model_path.stat().st_size},
    ]
    assert inspection.model_size_bytes == model_path.stat().st_size
    smoke = inspection.smoke_inference
    assert smoke["outputs"] == [{"name": "y", "dtype": "float32", "shape": [1, 3]}]
    assert isinstance(smoke["seconds"], float) and smoke["seconds"] >= 0

    as_dict = inspection.as_dict()
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert as_dict["inputs"] == inspection.inputs and as_dict["smoke_inference"] == smoke


@pytest.fixture(scope="module")
def iris_classifier():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, labels = load_iris(return_X_y=True)
    return LogisticRegression(max_iter=500).fit(features, labels), features[:1].astype(np.float32)


def test_sklearn_model_reports_unknown_batch_dimension(version_dir, iris_classifier):
    from skl2onnx import to_onnx

    classifier, sample = iris_classifier
    model_path = version_dir / "model.onnx"
    model_path.write_bytes(to_onnx(classifier, sample, options={"zipmap": False}, target_opset=17).SerializeToString())

    inspection = inspect_onnx(model_path, root=version_dir)

    assert inspection.producer_name == "skl2onnx"
    assert inspection.opset_imports == {"ai.onnx": 17, "ai.onnx.ml": 1}
    assert inspection.inputs == [{"name": "X", "dtype": "float32", "shape": [None, 4]}]
    assert inspection.outputs == [
        {"name": "label", "dtype": "int64", "shape": [None]},
        {"name": "probabilities", "dtype": "float32", "shape": [None, 3]},
    ]
    assert inspection.operator_counts["ai.onnx.ml::LinearClassifier"] == 1
    # LinearClassifier keeps its coefficients in attributes, and only initializers are counted.
    assert inspection.parameter_count == 0
    assert inspection.smoke_inference["outputs"] == [
        {"name": "label", "dtype": "int64", "shape": [1]},
        {"name": "probabilities", "dtype": "float32", "shape": [1, 3]},
    ]


def test_sklearn_zipmap_output_is_described_as_sequence_of_maps(version_dir, iris_classifier):
    from skl2onnx import to_onnx

    classifier, sample = iris_classifier
    model_path = version_dir / "model.onnx"
    model_path.write_bytes(to_onnx(classifier, sample, target_opset=17).SerializeToString())

    inspection = inspect_onnx(model_path, root=version_dir)

    zipmap = {"name": "output_probability", "dtype": "seq(map(int64,tensor(float32)))", "shape": None}
    assert inspection.outputs[1] == zipmap
    assert inspection.smoke_inference["outputs"][1] == zipmap


def test_sequence_input_skips_smoke_inference(version_dir):
    sequence = helper.make_tensor_sequence_value_info("s", TensorProto.FLOAT, None)
    model = single_node_model(
        helper.make_node("SequenceLength", ["s"], ["n"]),
        inputs=[sequence],
        outputs=[helper.make_tensor_value_info("n", TensorProto.INT64, [])],
    )
    model_path = version_dir / "model.onnx"
    onnx.save_model(model, str(model_path))

    inspection = inspect_onnx(model_path, root=version_dir)

    assert inspection.inputs == [{"name": "s", "dtype": "seq(tensor(float32))", "shape": None}]
    assert inspection.outputs == [{"name": "n", "dtype": "int64", "shape": []}]
    assert inspection.smoke_inference == {
        "skipped": "input 's' has type seq(tensor(float32)), which cannot be generated"
    }


def test_model_with_external_data_validates(version_dir):
    model_path = version_dir / "model.onnx"
    save_external(gemm_relu_model(), model_path)
    weights = version_dir / "weights.bin"
    assert weights.stat().st_size == (12 + 3) * 4

    inspection = inspect_onnx(model_path, root=version_dir)

    assert inspection.parameter_count == 15
    assert inspection.files == [
        {"path": "model.onnx", "size": model_path.stat().st_size},
        {"path": "weights.bin", "size": 60},
    ]
    assert inspection.model_size_bytes == model_path.stat().st_size + 60
    assert inspection.smoke_inference["outputs"][0]["shape"] == [1, 3]


# --- hostile or broken external data ------------------------------------------------------------------


def test_external_data_outside_the_folder_is_rejected_before_anything_reads_it(version_dir, nothing_may_load):
    model_path = version_dir / "model.onnx"
    save_external(gemm_relu_model(), model_path)
    # A real, well-sized file at the target: only the path check can stop this.
    (version_dir.parent / "outside.bin").write_bytes((version_dir / "weights.bin").read_bytes())
    relocate_external_data(model_path, "../outside.bin")

    error = inspect_error(model_path, version_dir)

    assert error.check == "external_data"
    assert str(error) == error.reason
    assert "points outside the model's files" in error.reason
    assert "'../outside.bin'" in error.reason and "'W'" in error.reason


def test_external_data_with_absolute_path_is_rejected(version_dir, nothing_may_load):
    model_path = version_dir / "model.onnx"
    save_external(gemm_relu_model(), model_path)
    # Even a file inside the folder may not be named by an absolute path.
    relocate_external_data(model_path, str(version_dir / "weights.bin"))

    error = inspect_error(model_path, version_dir)

    assert error.check == "external_data"
    assert "absolute path" in error.reason and str(version_dir / "weights.bin") in error.reason


@pytest.mark.parametrize("location", ["..\\outside.bin", "C:/weights.bin", "./weights.bin", "sub//weights.bin"])
def test_external_data_with_unusual_path_syntax_is_rejected(version_dir, nothing_may_load, location):
    model_path = version_dir / "model.onnx"
    save_external(gemm_relu_model(), model_path)
    relocate_external_data(model_path, location)

    error = inspect_error(model_path, version_dir)

    assert error.check == "external_data"
    assert repr(location) in error.reason


def test_external_data_through_a_symlink_leaving_the_folder_is_rejected(version_dir, nothing_may_load):
    model_path = version_dir / "model.onnx"
    save_external(gemm_relu_model(), model_path)
    outside = version_dir.parent / "outside.bin"
    (version_dir / "weights.bin").rename(outside)
    (version_dir / "weights.bin").symlink_to(outside)

    error = inspect_error(model_path, version_dir)

    assert error.check == "external_data"
    assert "points outside the model's files" in error.reason


def test_external_data_through_a_symlink_inside_the_folder_is_rejected(version_dir, nothing_may_load):
    model_path = version_dir / "model.onnx"
    save_external(gemm_relu_model(), model_path)
    (version_dir / "data").mkdir()
    (version_dir / "weights.bin").rename(version_dir / "data" / "real.bin")
    (version_dir / "weights.bin").symlink_to("data/real.bin")

    error = inspect_error(model_path, version_dir)

    assert error.check == "external_data"
    assert "symbolic link" in error.reason


def test_external_data_above_a_model_in_a_subfolder_is_rejected(version_dir, nothing_may_load):
    # "../weights.bin" stays inside the version's folder but leaves the model's own folder, which
    # onnx and onnxruntime would refuse later with a less helpful message.
    model_path = version_dir / "onnx" / "model.onnx"
    model_path.parent.mkdir()
    save_external(gemm_relu_model(), model_path)
    (model_path.parent / "weights.bin").rename(version_dir / "weights.bin")
    relocate_external_data(model_path, "../weights.bin")

    error = inspect_error(model_path, version_dir)

    assert error.check == "external_data"
    assert "'../weights.bin'" in error.reason


def test_onnxruntime_memory_address_marker_is_rejected(version_dir, nothing_may_load):
    model_path = version_dir / "model.onnx"
    save_external(gemm_relu_model(), model_path)
    # Even when a file of that name really exists: onnxruntime would read the offset as an address.
    marker = "*/_ORT_MEM_ADDR_/*"
    (version_dir / "*" / "_ORT_MEM_ADDR_").mkdir(parents=True)
    (version_dir / "weights.bin").rename(version_dir / marker)
    relocate_external_data(model_path, marker)

    error = inspect_error(model_path, version_dir)

    assert error.check == "external_data"
    assert "memory address" in error.reason


def test_missing_external_file_is_rejected(version_dir, nothing_may_load):
    model_path = version_dir / "model.onnx"
    save_external(gemm_relu_model(), model_path)
    (version_dir / "weights.bin").unlink()

    error = inspect_error(model_path, version_dir)

    assert error.check == "external_data"
    assert "was not uploaded" in error.reason and "'weights.bin'" in error.reason


def test_external_data_beyond_the_end_of_its_file_is_rejected(version_dir, nothing_may_load):
    model_path = version_dir / "model.onnx"
    save_external(gemm_relu_model(), model_path)
    weights = version_dir / "weights.bin"
    weights.write_bytes(weights.read_bytes()[:50])  # B's 12 bytes start at offset 48

    error = inspect_error(model_path, version_dir)

    assert error.check == "external_data"
    assert "'B'" in error.reason and "only 50 bytes" in error.reason


def test_external_attribute_tensor_inside_a_subgraph_is_checked(version_dir, nothing_may_load):
    # The Constant's value lives in an If branch, where onnx's own tensor walk also looks.
    branch_out = [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]
    constant = helper.make_node("Constant", [], ["y"], value=numpy_helper.from_array(np.ones(3, np.float32), "k"))
    then_branch = helper.make_graph([constant], "then", [], branch_out)
    else_branch = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "else", [], branch_out)
    model = single_node_model(
        helper.make_node("If", ["c"], ["y"], then_branch=then_branch, else_branch=else_branch),
        inputs=[
            helper.make_tensor_value_info("c", TensorProto.BOOL, []),
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [3]),
        ],
        outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])],
    )
    model_path = version_dir / "model.onnx"
    save_external(model, model_path, convert_attribute=True)
    relocate_external_data(model_path, "../outside.bin")

    error = inspect_error(model_path, version_dir)

    assert error.check == "external_data"
    assert "'k'" in error.reason and "outside" in error.reason


# --- files that are not (valid) ONNX ----------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"this is a README, not a model\n", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, b""],
    ids=["text", "png", "empty"],
)
def test_non_onnx_file_fails_to_parse(version_dir, content):
    model_path = version_dir / "model.onnx"
    model_path.write_bytes(content)

    error = inspect_error(model_path, version_dir)

    assert error.check == "parse"
    assert error.reason.startswith(("not a valid ONNX file", "not an ONNX model"))


def test_truncated_model_is_rejected_with_a_readable_reason(version_dir):
    whole = gemm_relu_model().SerializeToString()
    model_path = version_dir / "model.onnx"
    model_path.write_bytes(whole[: len(whole) // 2])

    error = inspect_error(model_path, version_dir)

    assert error.check in ("parse", "checker")
    assert error.reason.startswith(("not a valid ONNX file", "not an ONNX model", "the ONNX checker rejected"))


def test_truncation_that_still_parses_is_caught_by_the_checker(version_dir):
    # Cut right after the graph: the protobuf is well formed, but the opset imports that follow it are gone.
    model = gemm_relu_model()
    whole = model.SerializeToString()
    without_opsets = onnx.ModelProto()
    without_opsets.CopyFrom(model)
    del without_opsets.opset_import[:]
    model_path = version_dir / "model.onnx"
    model_path.write_bytes(without_opsets.SerializeToString())
    assert whole.startswith(model_path.read_bytes())

    error = inspect_error(model_path, version_dir)

    assert error.check == "checker"
    assert "opset_import" in error.reason


def test_model_onnxruntime_cannot_load_fails_runtime_session(version_dir):
    model = single_node_model(
        helper.make_node("Foo", ["x"], ["y"], domain="com.example"),
        inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, None])],
        opsets=OPSET + [helper.make_opsetid("com.example", 1)],
    )
    model_path = version_dir / "model.onnx"
    onnx.save_model(model, str(model_path))
    check_model(str(model_path), full_check=True)  # custom domains pass the checker

    error = inspect_error(model_path, version_dir)

    assert error.check == "runtime_session"
    assert error.reason.startswith("onnxruntime could not load the model:")
    assert "com.example:Foo" in error.reason


def test_model_failing_at_run_time_fails_smoke_inference(version_dir):
    # With a symbolic batch nothing can tell statically that 4 * batch elements never make 5.
    model = single_node_model(
        helper.make_node("Reshape", ["x", "shape"], ["y"]),
        inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT, [None])],
        initializers=[numpy_helper.from_array(np.array([5], dtype=np.int64), "shape")],
    )
    model_path = version_dir / "model.onnx"
    onnx.save_model(model, str(model_path))

    error = inspect_error(model_path, version_dir)

    assert error.check == "smoke_inference"
    # Generated values are not valid inputs of every model: the reason asks for an example, with onnxruntime's words.
    assert error.reason.startswith("The model needs an input example: it failed on generated inputs")
    assert "onnxruntime said:" in error.reason and "Reshape" in error.reason
    assert len(error.reason) < 800


# --- caller contract ---------------------------------------------------------------------------------


def test_model_outside_root_is_a_caller_error(tmp_path, version_dir):
    model_path = tmp_path / "model.onnx"
    onnx.save_model(gemm_relu_model(), str(model_path))

    with pytest.raises(ValueError):
        inspect_onnx(model_path, root=version_dir)


def test_symlinked_model_file_is_rejected(tmp_path, version_dir):
    real = tmp_path / "real.onnx"
    onnx.save_model(gemm_relu_model(), str(real))
    (version_dir / "model.onnx").symlink_to(real)

    error = inspect_error(version_dir / "model.onnx", version_dir)

    assert error.check == "parse" and "symbolic link" in error.reason


def test_unknown_check_name_is_refused():
    with pytest.raises(ValueError):
        ModelInvalid("x", check="vibes")


def test_external_sparse_initializer_is_checked(version_dir, nothing_may_load):
    # onnx's own tensor walk skips sparse tensors; a runtime densifies them, reading their data.
    values = numpy_helper.from_array(np.ones(2, np.float32), "S")
    onnx.external_data_helper.set_external_data(values, location="../outside.bin", offset=0, length=8)
    values.ClearField("raw_data")
    indices = numpy_helper.from_array(np.array([0, 2], np.int64), "S_indices")
    model = single_node_model(
        helper.make_node("Add", ["x", "S"], ["y"]),
        inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])],
        outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])],
    )
    model.graph.sparse_initializer.append(helper.make_sparse_tensor(values, indices, [3]))
    model_path = version_dir / "model.onnx"
    onnx.save_model(model, str(model_path))
    (version_dir.parent / "outside.bin").write_bytes(b"\0" * 8)

    error = inspect_error(model_path, version_dir)

    assert error.check == "external_data"
    assert "'S'" in error.reason and "outside" in error.reason
