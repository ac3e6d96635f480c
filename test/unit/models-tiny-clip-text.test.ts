import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TINY_CLIP_TEXT, tinyClipVocab } from '../../models/tiny-clip-text/build.ts';
import { bytesToUnicode } from '../../common/byte-bpe.ts';
import { ClipTokenizer } from '../../worker/clip-tokenizer.ts';

const { vocab, merges } = tinyClipVocab();
const tokenizer = new ClipTokenizer({ vocab, merges: `#version: 0.2\n${merges.join('\n')}\n`, maxLength: TINY_CLIP_TEXT.maxLength });
const BOS = vocab['<|startoftext|>']!;
const EOS = vocab['<|endoftext|>']!;

test('tiny clip text - byte-to-unicode is the GPT-2 / CLIP table', () => {
  const t = bytesToUnicode();
  assert.equal(t.length, 256);
  assert.equal(t[65], 'A');
  assert.equal(t[32], 'Ġ'); // the space byte
  assert.equal(new Set(t).size, 256);
});

test('tiny clip text - known words merge to one token, others are spelled in byte symbols, then end and padding', () => {
  const ids = tokenizer.encode('  A Red   FOX, jumping!  ');
  assert.equal(ids.length, 77);
  assert.equal(ids[0], BOS);
  assert.deepEqual(ids.slice(1, 4), [vocab['a</w>'], vocab['red</w>'], vocab['fox</w>']]);
  assert.equal(ids[4], vocab[',</w>']);
  assert.equal(ids[5], vocab['jumping</w>']);
  assert.equal(ids[6], vocab['!</w>']);
  assert.equal(ids[7], EOS);
  assert.ok(ids.slice(8).every((i) => i === EOS));
  // An unknown word: one symbol per byte, the last marked as the word's end.
  assert.deepEqual(tokenizer.encode('zq').slice(1, 3), [vocab['z'], vocab['q</w>']]);
  // Non-ASCII text goes through its UTF-8 bytes.
  assert.equal(tokenizer.encode('é').filter((i) => i !== EOS && i !== BOS).length, 2);
});

test('tiny clip text - long prompts are truncated with the end token kept', () => {
  const ids = tokenizer.encode(Array.from({ length: 200 }, () => 'fox').join(' '));
  assert.equal(ids.length, 77);
  assert.equal(ids[76], EOS);
  assert.equal(ids[75], vocab['fox</w>']);
});

