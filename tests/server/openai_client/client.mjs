// Drives a running `strata-cli serve` with the official openai client, as editors and scripts
// do: node client.mjs BASE_URL API_KEY. Prints one "ok NAME" line per check and exits 0, or
// prints "FAIL NAME: why" and exits 1.
import OpenAI from 'openai';

const [baseURL, apiKey] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60000 });
let failed = false;

async function check(name, fn) {
  try {
    await fn();
    console.log(`ok ${name}`);
  } catch (e) {
    failed = true;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
  }
}

function assert(cond, what) {
  if (!cond) throw new Error(what);
}

const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }];

await check('models', async () => {
  const list = await client.models.list();
  const ids = list.data.map((m) => m.id);
  assert(ids.length === 1 && ids[0] === 'tiny', `models: ${JSON.stringify(ids)}`);
});

await check('chat', async () => {
  const r = await client.chat.completions.create({ model: 'tiny', messages, max_tokens: 8, temperature: 0 });
  assert(r.object === 'chat.completion', `object ${r.object}`);
  assert(r.choices[0].message.role === 'assistant', 'role');
  assert(typeof r.choices[0].message.content === 'string', 'content');
  assert(['stop', 'length'].includes(r.choices[0].finish_reason), `finish ${r.choices[0].finish_reason}`);
  assert(r.usage.completion_tokens >= 1 && r.usage.completion_tokens <= 8, `usage ${JSON.stringify(r.usage)}`);
});

await check('chat stream', async () => {
  const stream = await client.chat.completions.create({
    model: 'tiny', messages, max_tokens: 8, stream: true, stream_options: { include_usage: true },
  });
  let chunks = 0, finish = null, usage = null, role = null;
  for await (const c of stream) {
    chunks++;
    if (c.choices.length) {
      role = role ?? c.choices[0].delta.role;
      finish = c.choices[0].finish_reason ?? finish;
    }
    if (c.usage) usage = c.usage;
  }
  assert(chunks >= 3, `chunks ${chunks}`);
  assert(role === 'assistant', `role ${role}`);
  assert(['stop', 'length'].includes(finish), `finish ${finish}`);
  assert(usage && usage.completion_tokens >= 1, `usage ${JSON.stringify(usage)}`);
});

await check('completions', async () => {
  const r = await client.completions.create({ model: 'tiny', prompt: 'Once upon a time', max_tokens: 6, temperature: 0 });
  assert(r.object === 'text_completion', `object ${r.object}`);
  assert(typeof r.choices[0].text === 'string', 'text');
  const stream = await client.completions.create({ model: 'tiny', prompt: 'Once upon a time', max_tokens: 6, temperature: 0, stream: true });
  let text = '';
  for await (const c of stream) text += c.choices[0]?.text ?? '';
  assert(text === r.choices[0].text, `streamed ${JSON.stringify(text)} vs ${JSON.stringify(r.choices[0].text)}`);
});

const tools = [{
  type: 'function',
  function: { name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
}];

await check('tools', async () => {
  // A random-weight model will not call the tool; the request and a history with a call and its
  // result must still be taken, and the answer be well formed.
  const history = [
    ...messages,
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: '{"temp": 21}' },
  ];
  const r = await client.chat.completions.create({ model: 'tiny', messages: history, tools, tool_choice: 'auto', max_tokens: 8 });
  const c = r.choices[0];
  assert(['stop', 'length', 'tool_calls'].includes(c.finish_reason), `finish ${c.finish_reason}`);
  assert(c.finish_reason !== 'tool_calls' || c.message.tool_calls.length > 0, 'tool_calls finish without calls');
  const stream = await client.chat.completions.create({ model: 'tiny', messages: history, tools, max_tokens: 8, stream: true });
  let finish = null;
  for await (const ch of stream) finish = ch.choices[0]?.finish_reason ?? finish;
  assert(finish, 'stream ended without finish_reason');
  // Forcing a call cannot be honoured: a 400 the client reports as BadRequestError.
  let status = 0;
  try {
    await client.chat.completions.create({ model: 'tiny', messages, tools, tool_choice: 'required' });
  } catch (e) {
    status = e.status;
    assert(/tool_choice/.test(e.message), `message ${e.message}`);
  }
  assert(status === 400, `forced tool_choice: status ${status}`);
});

await check('json mode', async () => {
  const r = await client.chat.completions.create({
    model: 'tiny', messages, response_format: { type: 'json_object' }, max_tokens: 400, temperature: 0,
  });
  const text = r.choices[0].message.content;
  if (r.choices[0].finish_reason === 'stop') JSON.parse(text);  // a closed object parses
  else assert(text.trimStart().startsWith('{'), `not JSON: ${JSON.stringify(text)}`);
});

await check('errors', async () => {
  let err = null;
  try {
    await client.chat.completions.create({ model: 'tiny', messages: [] });
  } catch (e) {
    err = e;
  }
  assert(err && err.status === 400, `status ${err && err.status}`);
  const wrong = new OpenAI({ baseURL, apiKey: 'wrong', maxRetries: 0 });
  let status = 0;
  try {
    await wrong.models.list();
  } catch (e) {
    status = e.status;
  }
  assert(status === 401, `wrong key: status ${status}`);
});

process.exit(failed ? 1 : 0);
