package dev.gpubroker.mcp.tools;

import java.util.Map;
import java.util.function.Function;

import dev.gpubroker.mcp.ToolResult;
import dev.gpubroker.memo.BoundedMemo;

/**
 * The last answer of a polled tool by key, with what it was built from ({@code S}, records compared by value): while
 * what the next call shows is equal, the very same answer object is answered again, so that it is neither built nor
 * written as JSON again ({@link ToolResult#repeated}). The answer is a function of what it shows alone, so an equal
 * input can only give an equal answer; anything that changes makes the input unequal and the answer is built anew.
 * {@code render} must return an answer never modified afterwards, nested maps and lists included; {@code S} must be
 * immutable (records of final fields).
 */
final class LastAnswers<K, S> {

    /**
     * One key's last answer. {@code shown} is the latest input found equal to what the answer was built from: holding
     * the latest rather than the first makes the next comparison a matter of identity wherever the sources hand out
     * the same objects again (cached reads do), where the first input's parts were copies equal field by field, and
     * every call compared them deep (a tenth of {@code account}'s own cost, HotPathBenchmark's recording). Any of two
     * racing equal inputs will do: both are equal to what the answer shows. Not volatile, since every poll writes it:
     * the inputs are records, whose final fields a thread that sees the reference sees as they were built (JLS 17.5).
     */
    private static final class Answer<S> {
        private S shown;
        private final Map<String, Object> output;

        Answer(S shown, Map<String, Object> output) {
            this.shown = shown;
            this.output = output;
        }
    }

    private final Function<S, Map<String, Object>> render;
    /** At most 10,000 keys' answers (agents, jobs); a full memo starts over. */
    private final BoundedMemo<K, Answer<S>> answers = new BoundedMemo<>(10_000);

    LastAnswers(Function<S, Map<String, Object>> render) {
        this.render = render;
    }

    /** The answer showing {@code shown}: the last one for {@code key} when it showed the same. */
    ToolResult answer(K key, S shown) {
        Answer<S> last = answers.get(key);
        if (last == null || !last.shown.equals(shown)) {
            last = new Answer<>(shown, render.apply(shown));
            answers.put(key, last);
        } else {
            last.shown = shown;
        }
        return ToolResult.repeated(last.output);
    }
}
