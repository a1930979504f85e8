import Foundation
import KascadeCore
import KascadeModel

/// Runs the demo prompt through a session: a timed prefill, then a greedy, timed answer.
struct DemoRunner {
    let model: LlamaModel
    let tokenizer: BPETokenizer
    let prompt: DemoPrompt
    let maxNewTokens: Int

    /// Prefills the prompt into the empty `session`, with a progress bar on stderr.
    func prefill(_ session: InferenceSession, label: String) throws -> DemoPrefill {
        let bar = ProgressBar(label: label, total: prompt.tokens.count)
        let start = DispatchTime.now()
        let logits = try session.prefill(prompt.tokens) { done, _ in bar.update(done) }
        bar.finish()
        return DemoPrefill(method: session.policy.name, seconds: Self.seconds(since: start),
                           attentionSeconds: session.attentionSeconds, keys: session.policy.stats, logits: logits)
    }

    /// Greedily answers after `prefill` (the session holds exactly the prompt) with the session's
    /// current policy; the policy's counters must hold only the prefill's work (or none).
    func decode(_ session: InferenceSession, after prefill: DemoPrefill, row: String) throws -> DemoMethodResult {
        let keysBefore = session.policy.stats
        let attentionBefore = session.attentionSeconds
        var sampler = Sampler(SamplerOptions())
        var logits = prefill.logits
        var generated: [Int32] = []
        var steps = 0
        let start = DispatchTime.now()
        while generated.count < maxNewTokens {
            let token = sampler.sample(logits)
            if tokenizer.isEndOfGeneration(token) { break }
            generated.append(token)
            if generated.count == maxNewTokens { break }
            logits = try session.step(token)
            steps += 1
        }
        let seconds = Self.seconds(since: start)
        var keys = session.policy.stats
        if keys.calls >= keysBefore.calls {
            keys.keysRead -= keysBefore.keysRead
            keys.denseKeys -= keysBefore.denseKeys
            keys.calls -= keysBefore.calls
        }
        let answer = tokenizer.decode(generated)
        return DemoMethodResult(
            method: row, prefillMethod: prefill.method, answer: answer, found: answer.contains(prompt.passkey),
            promptTokens: prompt.tokens.count, prefillSeconds: prefill.seconds,
            prefillAttentionSeconds: prefill.attentionSeconds, prefillKeys: prefill.keys,
            generatedTokens: generated.count, decodeSteps: steps, decodeSeconds: seconds,
            decodeAttentionSeconds: session.attentionSeconds - attentionBefore, decodeKeys: keys)
    }

    private static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) * 1e-9
    }
}
