// OpenAI's official Node SDK against the gateway, by base URL only:
// create (multipart, with an uploaded image), retrieve until done, list,
// download the content, delete.  Prints what it saw as JSON.
//
//   node t/sdk/videos.mjs <base url> <api key> <model>

import OpenAI, { toFile } from 'openai';

const [baseURL, apiKey, model] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
const out = {};

const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

const created = await client.videos.create({
    model,
    prompt: 'a paper boat on a pond',
    seconds: '4',
    size: '1280x720',
    input_reference: await toFile(png, 'ref.png', { type: 'image/png' }),
});
out.created = created;

let video = created;
for (let i = 0; i < 100 && !['completed', 'failed'].includes(video.status); i++) {
    await new Promise((r) => setTimeout(r, 100));
    video = await client.videos.retrieve(created.id);
}
out.final = video;

const page = await client.videos.list({ limit: 10 });
out.listed = page.data.map((v) => v.id);

const content = await client.videos.downloadContent(created.id);
out.content_type = content.headers.get('content-type');
out.content_bytes = (await content.arrayBuffer()).byteLength;

out.deleted = await client.videos.delete(created.id);

try {
    await client.videos.retrieve('video_00000000000000000000000000000000');
} catch (e) {
    out.missing = { status: e.status, code: e.code, type: e.type };
}

try {
    await new OpenAI({ baseURL, apiKey: 'mk_wrong_key_0000000000', maxRetries: 0 })
        .videos.create({ model, prompt: 'x' });
} catch (e) {
    out.unauthorized = { status: e.status, code: e.code };
}

console.log(JSON.stringify(out));
