package dev.gpubroker.mcp.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.gpubroker.mcp.ToolResult;

/** A polled tool's last answer is answered again while what it shows is equal, and built anew when it changes. */
class LastAnswersTest {

    /** Equal by its value; counts how often two distinct instances are compared field by field. */
    private static final class Shown {
        static final AtomicInteger deepComparisons = new AtomicInteger();
        final String status;

        Shown(String status) {
            this.status = status;
        }

        @Override
        public boolean equals(Object other) {
            if (other == this) {
                return true;
            }
            deepComparisons.incrementAndGet();
            return other instanceof Shown shown && shown.status.equals(status);
        }

        @Override
        public int hashCode() {
            return status.hashCode();
        }
    }

    private final AtomicInteger rendered = new AtomicInteger();
    private final LastAnswers<String, Shown> answers = new LastAnswers<>(shown -> {
        rendered.incrementAndGet();
        return Map.of("status", shown.status);
    });

    private static Map<String, Object> output(ToolResult result) {
        return ((ToolResult.Success) result).output();
    }

    @Test
    void anEqualInputGetsTheVeryAnswerAgainAndAChangedOneANewAnswer() {
        Map<String, Object> first = output(answers.answer("job_1", new Shown("running")));
        Map<String, Object> again = output(answers.answer("job_1", new Shown("running")));
        Map<String, Object> changed = output(answers.answer("job_1", new Shown("succeeded")));

        assertThat(again).isSameAs(first);
        assertThat(changed).isEqualTo(Map.of("status", "succeeded"));
        assertThat(rendered).hasValue(2);
        assertThat(output(answers.answer("job_2", new Shown("running")))).isNotSameAs(first);
    }

    @Test
    void theLatestEqualInputIsWhatTheNextIsComparedWith() {
        Shown latest = new Shown("running");
        answers.answer("job_1", new Shown("running"));
        answers.answer("job_1", latest);
        int before = Shown.deepComparisons.get();

        answers.answer("job_1", latest);
        answers.answer("job_1", latest);

        assertThat(Shown.deepComparisons.get()).isEqualTo(before);
        assertThat(rendered).hasValue(1);
    }
}
