"""The official CompreFace Python SDK (``compreface-sdk`` 0.6.0) against Visage's api-service.

Every call goes through the SDK unchanged, so these tests see exactly what an existing CompreFace
client sends: options appended as ``?&key=value`` with Python's ``True``, multipart uploads
named ``image.jpg`` for bytes and URLs, ``response.json()`` on every answer (errors included).
0.6.0 sends every image as multipart: it has no base64 or embeddings calls.

``tests/sdk/run.sh`` starts core-service, api-service and PostgreSQL and sets
``VISAGE_API_URL``. The keys are those of the demo services the migrations seed. The photos and
who is in them come from ``tests/fixtures/upstream-samples/annotations.json`` (persons A, B, C).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import threading
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from compreface import CompreFace

API_URL = os.environ.get("VISAGE_API_URL")
if not API_URL:
    raise RuntimeError("VISAGE_API_URL is not set: run tests/sdk/run.sh, which starts the services")
_url = urlsplit(API_URL)
DOMAIN, PORT = f"{_url.scheme}://{_url.hostname}", str(_url.port)

RECOGNITION_KEY = "00000000-0000-0000-0000-000000000002"
DETECTION_KEY = "00000000-0000-0000-0000-000000000003"
VERIFICATION_KEY = "00000000-0000-0000-0000-000000000004"

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "upstream-samples"
ANNOTATIONS = json.loads((SAMPLES / "annotations.json").read_text())

# Similarity bounds for one person and for two people. The curve gives 0.5 where the distance
# equals the embedder's fitted threshold; the sample pairs used here sit far on either side.
SAME_PERSON = 0.7
OTHER_PERSON = 0.3

NO_FACE = {"code": 28, "message": "No face is found in the given image"}


def sample(name: str) -> str:
    return str(SAMPLES / name)


def area(face: dict) -> int:
    box = face["box"]
    return (box["x_max"] - box["x_min"]) * (box["y_max"] - box["y_min"])


def assert_box(box: dict) -> None:
    assert set(box) == {"probability", "x_min", "y_min", "x_max", "y_max"}, box
    assert 0.0 < box["probability"] <= 1.0
    for key in ("x_min", "y_min", "x_max", "y_max"):
        assert isinstance(box[key], int), box
    assert box["x_min"] < box["x_max"] and box["y_min"] < box["y_max"], box


def inside(point, box: dict) -> bool:
    x, y = point
    return box["x_min"] <= x <= box["x_max"] and box["y_min"] <= y <= box["y_max"]


@pytest.fixture(scope="module")
def image_server():
    """The sample photos over HTTP, for the SDK's image-by-URL form."""
    handler = functools.partial(QuietHandler, directory=str(SAMPLES))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def compreface():
    return CompreFace(DOMAIN, PORT)


@pytest.fixture
def recognition(compreface):
    """The demo recognition service with an empty collection."""
    service = compreface.init_face_recognition(RECOGNITION_KEY)
    answer = service.get_subjects().delete_all()
    assert "deleted" in answer, answer
    return service


@pytest.fixture
def enrolled(recognition, image_server):
    """A, B and C enrolled with one photo each, one per upload form the SDK has: a file path,
    bytes, and a URL the SDK downloads. Returns their image ids."""
    faces = recognition.get_face_collection()
    answers = {
        "A": faces.add(sample("001_A.jpg"), "A"),
        "B": faces.add((SAMPLES / "007_B.jpg").read_bytes(), "B"),
        "C": faces.add(f"{image_server}/009_C.jpg", "C"),
    }
    for subject, answer in answers.items():
        assert set(answer) == {"image_id", "subject"}, answer
        assert answer["subject"] == subject
        uuid.UUID(answer["image_id"])
    return {subject: answer["image_id"] for subject, answer in answers.items()}


# Recognition: subjects


def test_subjects_add_list_rename_delete(recognition):
    subjects = recognition.get_subjects()
    assert subjects.list() == {"subjects": []}
    assert subjects.add("Ann") == {"subject": "Ann"}
    assert subjects.add("Bob") == {"subject": "Bob"}
    duplicate = subjects.add("ann")
    assert duplicate["code"] == 43, duplicate
    assert sorted(subjects.list()["subjects"]) == ["Ann", "Bob"]

    # The SDK's rename body carries an extra "api_endpoint" field, which must be ignored.
    assert subjects.update("Bob", "Robert") == {"updated": True}
    assert sorted(subjects.list()["subjects"]) == ["Ann", "Robert"]

    assert subjects.delete("Ann") == {"subject": "Ann"}
    missing = subjects.delete("Ann")
    assert missing["code"] == 42, missing
    assert subjects.delete_all() == {"deleted": 1}
    assert subjects.list() == {"subjects": []}


# Recognition: faces


def test_add_faces_by_path_bytes_and_url_then_list(recognition, enrolled):
    assert len(set(enrolled.values())) == 3
    listing = recognition.get_face_collection().list()
    assert listing["page_number"] == 0
    assert listing["page_size"] == 20
    assert listing["total_pages"] == 1
    assert listing["total_elements"] == 3
    assert sorted((f["subject"], f["image_id"]) for f in listing["faces"]) == sorted(enrolled.items())
    assert sorted(recognition.get_subjects().list()["subjects"]) == ["A", "B", "C"]


def test_add_face_with_detection_threshold(recognition):
    # Sent as "?subject=C&det_prob_threshold=0.8".
    answer = recognition.get_face_collection().add(sample("009_C.jpg"), "C", {"det_prob_threshold": 0.8})
    assert answer["subject"] == "C", answer
    assert recognition.get_face_collection().list()["total_elements"] == 1


def test_add_face_refuses_no_face_and_several_faces(recognition):
    faces = recognition.get_face_collection()
    assert faces.add(sample("017_0.jpg"), "nobody") == NO_FACE
    several = faces.add(sample("000_5.jpg"), "group")
    assert several == {"code": 31, "message": "More than one face in the source image"}
    assert faces.list()["total_elements"] == 0


def test_recognize_ranks_the_same_person_first(recognition, enrolled):
    answer = recognition.recognize(sample("002_A.jpg"), {"limit": 0, "prediction_count": 3, "det_prob_threshold": 0.8})
    assert len(answer["result"]) == 1, answer
    face = answer["result"][0]
    assert_box(face["box"])
    nose = ANNOTATIONS["images"]["002_A.jpg"]["noses"][0]
    assert inside(nose, face["box"])
    subjects = face["subjects"]
    assert [s["subject"] for s in subjects][0] == "A", subjects
    assert sorted(s["subject"] for s in subjects) == ["A", "B", "C"]
    similarities = [s["similarity"] for s in subjects]
    assert similarities == sorted(similarities, reverse=True)
    assert similarities[0] >= SAME_PERSON, subjects
    assert all(s <= OTHER_PERSON for s in similarities[1:]), subjects

    # The default prediction_count is 1.
    best = recognition.recognize(sample("002_A.jpg"), {"det_prob_threshold": 0.8})
    assert best["result"][0]["subjects"] == subjects[:1]


def test_recognize_with_the_clients_global_options(enrolled):
    # Options given to CompreFace() apply to recognize() when the call gives none; the URL is
    # "?&limit=0&det_prob_threshold=0.8&prediction_count=2&face_plugins=calculator,age&status=True".
    options = {"limit": 0, "det_prob_threshold": 0.8, "prediction_count": 2,
               "face_plugins": "calculator,age", "status": True}
    service = CompreFace(DOMAIN, PORT, options).init_face_recognition(RECOGNITION_KEY)
    answer = service.recognize(sample("009_C.jpg"))
    assert len(answer["result"]) == 1, answer
    face = answer["result"][0]
    assert [s["subject"] for s in face["subjects"]][0] == "C"
    assert len(face["subjects"]) == 2
    assert len(face["embedding"]) == 512
    assert face["age"]["low"] <= face["age"]["high"]
    assert {"detector", "calculator", "age"} <= set(face["execution_time"]), face["execution_time"]
    assert {"detector", "calculator", "age"} <= set(answer["plugins_versions"]), answer


def test_recognize_reports_no_face(recognition):
    assert recognition.recognize(sample("017_0.jpg")) == NO_FACE


def test_verify_a_photo_against_a_stored_face(recognition, enrolled):
    faces = recognition.get_face_collection()
    same = faces.verify(sample("002_A.jpg"), enrolled["A"])
    assert len(same["result"]) == 1, same
    assert_box(same["result"][0]["box"])
    assert same["result"][0]["subject"] == "A"
    assert same["result"][0]["similarity"] >= SAME_PERSON, same

    other = faces.verify(sample("009_C.jpg"), enrolled["A"], {"det_prob_threshold": 0.8, "status": True})
    assert len(other["result"]) == 1, other
    assert other["result"][0]["similarity"] <= OTHER_PERSON, other
    assert "detector" in other["result"][0]["execution_time"], other

    unknown = faces.verify(sample("009_C.jpg"), str(uuid.uuid4()))
    assert unknown["code"] == 44, unknown


def test_delete_by_id_by_subject_and_all(recognition, enrolled):
    faces = recognition.get_face_collection()
    assert faces.delete(enrolled["A"]) == {"image_id": enrolled["A"], "subject": "A"}
    again = faces.delete(enrolled["A"])
    assert again["code"] == 44, again
    assert sorted(f["subject"] for f in faces.list()["faces"]) == ["B", "C"]
    # As upstream: the subject stays, even without faces.
    assert sorted(recognition.get_subjects().list()["subjects"]) == ["A", "B", "C"]

    # By subject: its faces and the subject itself, as upstream.
    assert faces.delete_all("B") == {"deleted": 1}
    assert [f["subject"] for f in faces.list()["faces"]] == ["C"]
    assert sorted(recognition.get_subjects().list()["subjects"]) == ["A", "C"]

    # The SDK sends "?subject=" for an empty name: every face of the service goes.
    assert faces.delete_all("") == {"deleted": 1}
    assert faces.list()["total_elements"] == 0

    cleared = recognition.get_subjects().delete_all()
    assert "deleted" in cleared, cleared
    assert recognition.get_subjects().list() == {"subjects": []}


# Detection


@pytest.mark.parametrize("name", ["000_5.jpg", "016_8.jpg"])
def test_detect_finds_every_face(compreface, name):
    expected = ANNOTATIONS["images"][name]
    detection = compreface.init_face_detection(DETECTION_KEY)
    faces = detection.detect(sample(name))["result"]
    assert len(faces) == expected["faces"]
    for face in faces:
        assert_box(face["box"])
    areas = [area(f) for f in faces]
    assert areas == sorted(areas, reverse=True), "faces must come largest first"
    for nose in expected["noses"]:
        assert any(inside(nose, f["box"]) for f in faces), f"no box holds the nose at {nose}"

    largest = detection.detect(sample(name), {"limit": 3})["result"]
    assert [f["box"] for f in largest] == [f["box"] for f in faces[:3]]


def test_detect_with_face_plugins(compreface):
    person = ANNOTATIONS["persons"]["C"]
    detection = compreface.init_face_detection(DETECTION_KEY)
    answer = detection.detect(sample("009_C.jpg"),
                              {"face_plugins": "age,gender,landmarks,calculator", "status": True})
    assert len(answer["result"]) == 1, answer
    face = answer["result"][0]
    assert_box(face["box"])

    assert 0.0 <= face["age"]["probability"] <= 1.0
    assert face["age"]["low"] <= person["approx_age"] + 15 and face["age"]["high"] >= person["approx_age"] - 15, face["age"]
    assert face["gender"]["value"] == person["gender"], face["gender"]
    assert 0.5 <= face["gender"]["probability"] <= 1.0
    assert len(face["landmarks"]) == 5
    assert all(inside(point, face["box"]) for point in face["landmarks"]), face["landmarks"]
    left_eye, right_eye, nose, left_mouth, right_mouth = face["landmarks"]
    assert left_eye[0] < right_eye[0] and left_mouth[0] < right_mouth[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(left_mouth[1], right_mouth[1])
    assert len(face["embedding"]) == 512

    plugins = {"detector", "calculator", "age", "gender"}
    assert plugins <= set(face["execution_time"]), face["execution_time"]
    assert all(isinstance(ms, int) for ms in face["execution_time"].values())
    assert plugins <= set(answer["plugins_versions"]), answer


def test_detect_reports_no_face(compreface):
    assert compreface.init_face_detection(DETECTION_KEY).detect(sample("017_0.jpg")) == NO_FACE


def test_an_unknown_key_is_a_json_error(compreface):
    key = str(uuid.uuid4())
    answer = compreface.init_face_detection(key).detect(sample("009_C.jpg"))
    assert answer == {"code": 10, "message": f"Detection service with API Key {key} not found"}


# Verification


def test_verify_two_photos(compreface):
    verification = compreface.init_face_verification(VERIFICATION_KEY)
    same = verification.verify(sample("002_A.jpg"), sample("004_A.jpg"))
    assert len(same["result"]) == 1, same
    assert_box(same["result"][0]["source_image_face"]["box"])
    matches = same["result"][0]["face_matches"]
    assert len(matches) == 1, matches
    assert_box(matches[0]["box"])
    assert matches[0]["similarity"] >= SAME_PERSON, matches

    other = verification.verify(sample("002_A.jpg"), sample("009_C.jpg"), {"status": True})
    similarity = other["result"][0]["face_matches"][0]["similarity"]
    assert similarity <= OTHER_PERSON, other
    assert similarity < matches[0]["similarity"]
    assert "detector" in other["result"][0]["plugins_versions"], other


def test_verify_every_face_of_a_group_photo(compreface):
    verification = compreface.init_face_verification(VERIFICATION_KEY)
    answer = verification.verify(sample("009_C.jpg"), sample("016_8.jpg"), {"face_plugins": "landmarks"})
    matches = answer["result"][0]["face_matches"]
    assert len(matches) == ANNOTATIONS["images"]["016_8.jpg"]["faces"], answer
    # In the target's detection order, largest first, as upstream answers (not by similarity).
    areas = [area(m) for m in matches]
    assert areas == sorted(areas, reverse=True)
    assert all(0.0 <= m["similarity"] <= 1.0 for m in matches)
    assert all(len(m["landmarks"]) == 5 for m in matches)


def test_verify_needs_a_face_in_the_source(compreface):
    verification = compreface.init_face_verification(VERIFICATION_KEY)
    assert verification.verify(sample("017_0.jpg"), sample("009_C.jpg")) == NO_FACE
