// Reference scores from nsfwjs itself (TensorFlow.js, pure-JS CPU backend), for
// tests/test_nsfw_drawings.py. Usage, from a directory where
// `npm install nsfwjs@4.4.0 @tensorflow/tfjs@4.22.0 buffer@6` was run:
//   node nsfwjs_reference.js manifest.json out.json
// manifest.json: [{"name", "file" (raw RGB bytes), "height", "width"}, ...]
// out.json: {"name": [drawing, hentai, neutral, porn, sexy], ...}
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const nsfwjs = require('nsfwjs');

async function main() {
  const [manifestPath, outPath] = process.argv.slice(2);
  await tf.setBackend('cpu');
  const model = await nsfwjs.load('MobileNetV2');
  const manifest = JSON.parse(fs.readFileSync(manifestPath));
  const scores = {};
  for (const item of manifest) {
    const pixels = new Int32Array(fs.readFileSync(path.resolve(path.dirname(manifestPath), item.file)));
    const image = tf.tensor3d(pixels, [item.height, item.width, 3], 'int32');
    const output = model.infer(image);  // nsfwjs' own /255 and align-corners bilinear resize
    scores[item.name] = Array.from(await output.data());
    image.dispose();
    output.dispose();
  }
  fs.writeFileSync(outPath, JSON.stringify(scores, null, 1));
}

main().catch((error) => { console.error(error); process.exit(1); });
