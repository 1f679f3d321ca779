package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** "required" answers split into calls keep each call's arguments as generated, numbers included. */
class ToolCallAnswersTest {

    @Test
    void numbersKeepTheirValueAndDigits() {
        var calls = ToolCallAnswers.required("[{\"name\": \"f\", \"parameters\": {\"x\": 1e400, \"y\": 0.12345678901234567890123, \"z\": 2.50}},"
                + " {\"name\": \"g\", \"parameters\": {}}]");
        assertThat(calls).hasSize(2);
        String args = calls.get(0).function().arguments();
        var exact = tools.jackson.databind.json.JsonMapper.builder()
                .enable(tools.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();
        var parsed = exact.readTree(args);
        assertThat(parsed.get("x").isNumber()).as(args).isTrue();
        assertThat(parsed.get("x").decimalValue()).as(args).isEqualByComparingTo("1e400");
        assertThat(args).contains("0.12345678901234567890123").contains("2.50");
        assertThat(calls.get(1).function().arguments()).isEqualTo("{}");
        assertThat(calls.get(0).id()).isNotEqualTo(calls.get(1).id());
    }

    @Test
    void aCutOrMalformedAnswerIsNoCalls() {
        assertThat(ToolCallAnswers.required("[{\"name\": \"f\", \"parameters\": {\"x\": 1")).isNull();
        assertThat(ToolCallAnswers.required("[]")).isNull();
        assertThat(ToolCallAnswers.required("[{\"parameters\": {}}]")).isNull();
    }
}
