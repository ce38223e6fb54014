package dev.bowline.proxy.text;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

class JsonTest {
  private static String quoted(String s) {
    StringBuilder sb = new StringBuilder("x");
    Json.quote(sb, s);
    return sb.substring(1); // appended, not replaced
  }

  @Test
  void escapesQuotesBackslashesAndControlCharactersOnly() {
    assertThat(quoted("plain /path?q=1")).isEqualTo("\"plain /path?q=1\"");
    assertThat(quoted("a\"b\\c")).isEqualTo("\"a\\\"b\\\\c\"");
    assertThat(quoted("\n\r\t")).isEqualTo("\"\\n\\r\\t\"");
    assertThat(quoted("\u0000\u001f\u0008")).isEqualTo("\"\\u0000\\u001f\\u0008\"");
    assertThat(quoted("é€\uD83D\uDE00\u007f")).isEqualTo("\"é€\uD83D\uDE00\u007f\"");
    assertThat(quoted("")).isEqualTo("\"\"");
  }

  @Test
  void everyCharacterReadsBackAsItselfWithAJsonParser() {
    StringBuilder all = new StringBuilder();
    for (char c = 0; c < 0x800; c++) {
      all.append(c);
    }
    all.append("\uD83D\uDE00\u2028\u2029\uFFFF");
    String text = all.toString();
    assertThat(JsonParser.parseString(quoted(text)).getAsString()).isEqualTo(text);
  }
}
