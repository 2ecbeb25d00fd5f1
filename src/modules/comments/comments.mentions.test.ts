import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractMentionIds } from './comments.mentions.js';

const A = '0190a0b0-0000-7000-8000-00000000000a';
const B = '0190a0b0-0000-7000-8000-00000000000b';
const C = '0190a0b0-0000-7000-8000-00000000000c';

describe('extractMentionIds', () => {
  it('finds every <@id> once, in order of first mention', () => {
    assert.deepEqual(extractMentionIds(`Hi <@${B}> and <@${A}>, ping <@${B}> again`), [B, A]);
  });

  it('lower-cases ids so the same person written in capitals is one mention', () => {
    assert.deepEqual(extractMentionIds(`<@${A.toUpperCase()}> <@${A}>`), [A]);
  });

  it('ignores text that only looks like a mention', () => {
    assert.deepEqual(extractMentionIds(`<@not-a-uuid> @${A} <${A}> <@ ${A}> <@${A}x>`), []);
  });

  it('ignores mentions inside code spans', () => {
    assert.deepEqual(extractMentionIds(`write \`<@${A}>\` to mention, like <@${B}>; \`\`a \` <@${C}>\`\``), [B]);
  });

  it('ignores mentions inside fenced code blocks, closed or not', () => {
    const body = [`Before <@${A}>`, '```md', `<@${B}>`, '```', 'After', '~~~~', `<@${C}>`].join('\n');
    assert.deepEqual(extractMentionIds(body), [A]);
  });

  it('counts a mention after a fence that closed', () => {
    assert.deepEqual(extractMentionIds(['```', 'code', '```', `<@${C}>`].join('\n')), [C]);
  });

  it('closes a fence only with the same character, at least as long', () => {
    assert.deepEqual(extractMentionIds(['~~~~', '```', `<@${A}>`, '~~~', `<@${B}>`, '~~~~~', `<@${C}>`].join('\n')), [C]);
  });

  it('counts a mention beside an unmatched backtick', () => {
    assert.deepEqual(extractMentionIds(`a lone \` then <@${A}>`), [A]);
  });

  it('answers nothing for a body without mentions', () => {
    assert.deepEqual(extractMentionIds('Just **Markdown**.'), []);
  });
});
