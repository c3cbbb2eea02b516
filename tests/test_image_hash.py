from conftest import encode, synthetic_scene
from PIL import Image
import io

from classifiers.base import DecodedImage
from classifiers.image_hash import ImageHashClassifier, hamming_distance


def decoded(image: Image.Image) -> DecodedImage:
    return DecodedImage(rgb=image.convert("RGB"), format="PNG", width=image.width, height=image.height, sha256="0" * 64)


def test_resized_and_reencoded_copy_is_near_and_other_image_is_far():
    classifier = ImageHashClassifier()
    original = synthetic_scene(1)
    copy = Image.open(io.BytesIO(encode(original.resize((300, 300)), "JPEG", quality=60))).convert("RGB")
    other = synthetic_scene(2)
    first, second, third = classifier.classify_batch([decoded(original), decoded(copy), decoded(other)])
    assert len(first.phash) == 16 and len(first.dhash) == 16
    assert hamming_distance(first.phash, second.phash) <= 4
    assert hamming_distance(first.phash, third.phash) > 12
    assert classifier.identity.weights_sha256 and len(classifier.identity.weights_sha256) == 64
