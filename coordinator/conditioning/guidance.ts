import { InvalidArgumentError } from '../../common/errors.ts';
import type { DenoiserManifest } from '../../common/manifest.ts';

/**
 * The guidance scale of a job: `spec.guidance` when set, else the model's
 * default (manifest `guidance.defaultScale`); 0 for models that declare no
 * guidance (where only 0 and 1, "none", are accepted). Negative prompts are
 * text; models that take embeddings get theirs as an uploaded tensor
 * (the manifest's `negativeFrom`, e.g. `spec.conditioning.negative_prompt_embeds`),
 * unless a text encoder on the workers makes their embeddings from text.
 */
export function resolveGuidance(raw: { guidance: number; negativePrompt: string }, m: DenoiserManifest): number {
  if (!m.guidance) {
    if (raw.guidance !== 0 && raw.guidance !== 1) throw new InvalidArgumentError('spec.guidance', `model "${m.name}" declares no classifier-free guidance; leave it 0`);
    if (raw.negativePrompt) throw new InvalidArgumentError('spec.negative_prompt', 'is not supported yet (it needs guidance)');
    return 0;
  }
  const textEncoded = (m.conditioning ?? []).some((c) => c.source === 'embeddings' && c.textEncoder);
  if (raw.negativePrompt && !textEncoded) {
    const neg = (m.conditioning ?? []).find((c) => c.source === 'embeddings' && c.negativeFrom);
    const hint = neg && neg.source === 'embeddings' ? `; upload its embeddings as spec.conditioning.${neg.negativeFrom}` : '';
    throw new InvalidArgumentError('spec.negative_prompt', `is text, and model "${m.name}" takes embeddings${hint}`);
  }
  if (raw.negativePrompt.length > 1000) throw new InvalidArgumentError('spec.negative_prompt', 'is longer than 1000 characters');
  if (raw.guidance === 0) return m.guidance.defaultScale;
  if (!Number.isFinite(raw.guidance) || raw.guidance < 1 || raw.guidance > 50) throw new InvalidArgumentError('spec.guidance', `must be in [1, 50] (1 = no guidance), got ${raw.guidance}`);
  return raw.guidance;
}
