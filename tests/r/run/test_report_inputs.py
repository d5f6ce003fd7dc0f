"""Report parameters that name unusable data stop in seconds, naming the parameter,
before any download, data preparation or training."""

import pytest

from conftest import render
from http_faults import FaultyServer


@pytest.fixture
def no_columns_csv(tmp_path):
    path = tmp_path / "not-nih.csv"
    path.write_text("a,b\n1,2\n")
    return path


@pytest.mark.parametrize(
    "params, message",
    [
        (["data=nih", "nih_archives=13"], "parameter 'nih_archives' is '13': archives are numbered 1 to 12; '13' is"),
        (["nih_archives=2-14"], "parameter 'nih_archives' is '2-14': archives are numbered 1 to 12"),  # demo: same rule
        (["data=nih", "nih_metadata=/no/such/Data_Entry_2017_v2020.csv"], "parameter 'nih_metadata' is '/no/such/"),
        (
            ["data=nih", "nih_metadata={no_columns_csv}"],
            "lacks the column(s) ['Image Index', 'Finding Labels', 'Patient ID']",
        ),
        (["data=nih", "nih_base_url=ftp//mirror"], "parameter 'nih_base_url' is 'ftp//mirror' but must be an http://"),
        (["data=folder", "data_dir=/no/such/folder"], "parameter 'data_dir' is '/no/such/folder', but no such folder"),
        (
            ["finding=Effusion"],
            "parameter 'finding' is 'Effusion', but the demo data (data=demo) are phantoms that "
            "only show a pneumothorax-like sign",
        ),
        (["finding=all", "model=baseline"], "parameter 'model' is 'baseline', but with finding=all the model has"),
        (["finding=all", "data=folder", "data_dir={empty}"], "with finding=all a folder holds its images and a "
                                                              "labels.csv in NIH's format"),
    ],
)
def test_unusable_data_inputs_stop_before_anything_runs(project_copy, no_columns_csv, tmp_path, params, message):
    with FaultyServer({"images_01.tar.gz": b"x" * 1000}) as server:
        params = [p.format(no_columns_csv=no_columns_csv, empty=tmp_path) for p in params]
        if not any(p.startswith("nih_base_url=") for p in params) and "data=nih" in params:
            params.append(f"nih_base_url={server.url}")
        done = render(project_copy, *params)
        assert server.sent == {}  # nothing was downloaded
    assert done.returncode != 0 and message in done.stderr, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert not (project_copy / "_output").exists() and not (project_copy / "data").exists()


@pytest.mark.parametrize("data", ["demo", "folder", "nih"])
def test_a_file_parameter_is_checked_whatever_the_data(tmp_path, no_columns_csv, data):
    from chestxray.sources.preflight import InputError, check_report_inputs

    with pytest.raises(InputError, match="parameter 'nih_metadata' is '/no/such/D.csv', but no such file"):
        check_report_inputs(data, str(tmp_path), nih_metadata="/no/such/D.csv")
    with pytest.raises(InputError, match="parameter 'adjudicated_labels': .* lacks the column"):
        check_report_inputs(data, str(tmp_path), adjudicated_labels=str(no_columns_csv))


def test_the_multilabel_study_refuses_one_findings_radiologists(tmp_path):
    from chestxray.sources.preflight import InputError, check_report_inputs

    labels = tmp_path / "adjudicated.csv"
    labels.write_text("Image Index,Pneumothorax\na.png,YES\n")
    with pytest.raises(InputError, match="parameter 'adjudicated_labels' is set, but radiologists' labels are "
                                         "compared with one finding's predictions"):
        check_report_inputs("nih", "", adjudicated_labels=str(labels), finding="all")
    check_report_inputs("demo", str(tmp_path / "demo"), finding="all")  # the multi-label demo
    (tmp_path / "labels.csv").write_text("Image Index,Finding Labels,Patient ID\n")
    check_report_inputs("folder", str(tmp_path), finding="all", model="densenet121")
