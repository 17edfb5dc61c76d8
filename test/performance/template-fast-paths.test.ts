import assert from 'node:assert/strict';
import { createTemplates } from '../../src/services/templates';
import { nunjucksEscape } from '../../src/services/template-fast-paths';

describe('the faster paths through Nunjucks give its own results', () => {
  const env = createTemplates();

  it('escapes exactly what Nunjucks escapes, and returns anything else as it is', () => {
    const samples = [
      '',
      'ACME-1001',
      'Printer on floor 3',
      'Tom & Jerry',
      '<script>alert("x")</script>',
      "it's",
      'C:\\path\\to',
      'ünïcödé – ✓ طلب',
      '&amp; already',
    ];
    for (let code = 0; code < 128; code += 1) samples.push(`a${String.fromCharCode(code)}b`);
    for (const text of samples) {
      assert.equal(env.renderString('{{ s }}', { s: text }), nunjucksEscape(text), text);
    }
    assert.equal(
      env.renderString('{{ s }}', { s: `<a href="x">O'Neil</a> \\` }),
      '&lt;a href=&quot;x&quot;&gt;O&#39;Neil&lt;/a&gt; &#92;',
    );
    assert.equal(env.renderString('{{ s | safe }}', { s: '<b>kept</b>' }), '<b>kept</b>');
  });

  it('keeps loop variables, macro arguments, and sets inside and outside blocks', () => {
    const page = [
      '{% macro row(item, mark="-") %}{{ mark }}{{ item }}{% endmacro %}',
      '{% set total = 0 %}',
      '{% for item in items %}',
      '{{ loop.index }}/{{ loop.length }}:{{ row(item) }}',
      '{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif %}{{ loop.revindex0 }};',
      '{% set total = total + item %}',
      '{% endfor %}',
      '|{{ total }}|{{ row(9, mark="+") }}',
      '{% for a, b in pairs %}{{ a }}={{ b }},{% endfor %}',
      '{% for key, value in object %}{{ key }}:{{ value }},{% endfor %}',
    ].join('');
    assert.equal(
      env.renderString(page, {
        items: [1, 2, 3],
        pairs: [
          ['x', 1],
          ['y', 2],
        ],
        object: { k: 'v' },
      }),
      '1/3:-1F2;2/3:-21;3/3:-3L0;|6|+9x=1,y=2,k:v,',
    );
    // A {% set %} in a loop or an `if` changes the variable outside it (`|6|` above), as in
    // Nunjucks itself (its results here were taken from it unpatched).
    assert.equal(
      env.renderString('{% set a = 1 %}{% if true %}{% set a = 2 %}{% endif %}{{ a }}', {}),
      '2',
    );
  });
});
