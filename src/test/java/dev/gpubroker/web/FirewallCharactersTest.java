package dev.gpubroker.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import org.junit.jupiter.api.Test;
import org.springframework.security.web.server.firewall.StrictServerWebExchangeFirewall;

/** The firewall's header rules without regular expressions allow exactly what Spring Security's own allow. */
class FirewallCharactersTest {

    @Test
    void everyCodePointAloneAndBetweenLettersIsJudgedAsSpringSecurityJudgesIt() {
        List<String> differ = new ArrayList<>();
        for (int codePoint = 0; codePoint <= Character.MAX_CODE_POINT; codePoint++) {
            String alone = Character.toString(codePoint);
            compare(alone, differ);
            compare("a" + alone + "b", differ);
        }
        assertThat(differ).isEmpty();
    }

    @Test
    void surrogatesPairedReversedAndAloneNullAndEmptyAreJudgedAsSpringSecurityJudgesThem() {
        List<String> differ = new ArrayList<>();
        for (String text : new String[] {"\uD83D\uDE00", "\uDE00\uD83D", "x\uD83D", "\uDE00x", "\uD800\uD800", "", null,
                "Bearer abc\u0000", "application/json, text/event-stream", "a\tb", "\t", "\u0085", "\u007F", "\uFFFF",
                "\uDB7F\uDFFF", "\uDBFF\uDFFD"}) {
            compare(text, differ);
        }
        assertThat(differ).isEmpty();
        assertThat(FirewallCharacters.HEADER_VALUES.test("a\tb")).as("a tab in a value").isTrue();
        assertThat(FirewallCharacters.HEADER_NAMES.test("a\tb")).as("a tab in a name").isFalse();
        assertThat(FirewallCharacters.HEADER_VALUES.test("a\u0085b")).as("NEL, which Netty lets through").isFalse();
        assertThat(FirewallCharacters.HEADER_VALUES.test("caf\u00E9 \uD83D\uDE00")).isTrue();
    }

    private static void compare(String text, List<String> differ) {
        check("name", text, StrictServerWebExchangeFirewall.ALLOWED_HEADER_NAMES, FirewallCharacters.HEADER_NAMES, differ);
        check("value", text, StrictServerWebExchangeFirewall.ALLOWED_HEADER_VALUES, FirewallCharacters.HEADER_VALUES,
                differ);
    }

    private static void check(String what, String text, Predicate<String> spring, Predicate<String> ours,
            List<String> differ) {
        if (spring.test(text) != ours.test(text) && differ.size() < 20) {
            differ.add(what + " " + (text == null ? "null" : text.codePoints()
                    .mapToObj(Integer::toHexString).toList()) + ": Spring Security " + spring.test(text));
        }
    }
}
