package dev.podserve.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class JinjaCompatTest {

    @ParameterizedTest
    @CsvSource(delimiterString = " => ", quoteCharacter = '`', value = {
            "{% if not a == b %}x{% endif %} => {% if not (a == b) %}x{% endif %}",
            "{{- not x is defined -}} => {{- not (x is defined) -}}",
            "{{ x is not none and not y in z }} => {{ x is not none and not (y in z) }}",
            "{{ 'a' if not x == 1 else 'b' }} => {{ 'a' if not (x == 1) else 'b' }}",
            "{% if not not a == b %} => {% if not (not (a == b)) %}",
            "{%- set ns = namespace(multi=true, last=messages|length - 1) %} => {%- set ns = namespace(multi=true, last=(messages|length - 1)) %}",
            "{{ f(x=g(y=1+2) + 3, z=4) }} => {{ f(x=(g(y=(1+2)) + 3), z=4) }}",
            "{% for m in messages[::-1] %} => {% for m in (messages|reverse) %}",
            "{{ x.y[0].z(1)[::-1] }} {{ (a + b)[::-1] }} => {{ (x.y[0].z(1)|reverse) }} {{ ((a + b)|reverse) }}",
            "{% raw %}{{ not a == b }}{% endraw %}{{ not c == d }} => {% raw %}{{ not a == b }}{% endraw %}{{ not (c == d) }}",
            "{{ '}}' ~ \"%}\" }} {% if not 'x%}' in s %} => {{ '}}' ~ \"%}\" }} {% if not ('x%}' in s) %}",
            "{{ x.y|length is number }} {{ a|f(1)|g is not none }} => {{ (x.y|length) is number }} {{ (a|f(1)|g) is not none }}",
            "{{ '-' * n|int + 1 }} {{ 2 * 'ab' }} {{ 'a' * -k }} => {{ ('-'|podserve_repeat(n|int)) + 1 }} {{ ('ab'|podserve_repeat(2)) }} {{ ('a'|podserve_repeat(-k)) }}",
            "{%- for m in ms if m.r != 's' -%} => {%- set podserve_loop_items_1 = [] %}{% for m in ms %}{% if m.r != 's' %}{% do podserve_loop_items_1.append(m) %}{% endif %}{% endfor %}{% for m in podserve_loop_items_1 -%}",
            "{% for x in xs %}a{% else %}b{% endfor %} => {% set podserve_loop_ran_1 = namespace(ran=false) %}{% for x in xs %}a{% set podserve_loop_ran_1.ran = true %}{% endfor %}{% if not podserve_loop_ran_1.ran %}b{% endif %}"})
    void parenthesizesWhatJinjavaReadsOtherwise(String template, String expected) {
        assertThat(JinjaCompat.rewrite(template)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"{{ not m.role }} {% if not loop.first and x %}{% endif %}", "{# not a == b #}",
            "{% macro f(a, b=1 + 2) %}{% endmacro %}", "{{ {'a': {'b': 1}} }} {{ x | tojson(indent=4) }}",
            "plain text { not a == b } %}", "{{ unclosed not a == b"})
    void leavesEverythingElseAlone(String template) {
        assertThat(JinjaCompat.rewrite(template)).isEqualTo(template);
    }
}
