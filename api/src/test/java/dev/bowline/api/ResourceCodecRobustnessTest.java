package dev.bowline.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.bowline.api.validation.Validator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Bad input gets an error message, never an exception: the valid fixtures, cut, spliced and
 * sprinkled with YAML punctuation by a seeded generator, must decode to resources and messages (and
 * the resources must validate) without throwing.
 */
class ResourceCodecRobustnessTest {
  private static final String NOISE = ":-[]{}\"'#&*!|>%@`,?\n\t 0.-1e9";

  private final ResourceCodec codec = new ResourceCodec();
  private final Validator validator = new Validator();

  @Test
  void mutatedDocumentsNeverThrow() {
    Random random = new Random(20261125);
    List<String> sources =
        ResourceCodecTest.VALID.stream().map(n -> Fixtures.read("valid/" + n)).toList();
    int decodedResources = 0;
    int messages = 0;
    for (int i = 0; i < 3000; i++) {
      String text = mutate(sources.get(random.nextInt(sources.size())), random);
      Decoded d = decode(text);
      decodedResources += d.resources().size();
      messages += d.errors().size();
      for (Message m : d.errors()) {
        assertThat(m.resource()).isNotBlank();
        assertThat(m.text()).isNotBlank();
      }
      for (Resource<?> r : d.resources()) {
        assertThatCode(() -> validator.validate(r)).as(text).doesNotThrowAnyException();
      }
    }
    // The generator must exercise both paths, or the test proves little.
    assertThat(decodedResources).isGreaterThan(1000);
    assertThat(messages).isGreaterThan(1000);
  }

  @Test
  void hostileYamlIsRejectedNotExpanded() {
    StringBuilder bomb = new StringBuilder("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 0; i < 12; i++) {
      char prev = (char) ('a' + i);
      char next = (char) ('a' + i + 1);
      bomb.append(next).append(": &").append(next).append(" [");
      bomb.append(("*" + prev + ", ").repeat(9)).append("*").append(prev).append("]\n");
    }
    Decoded d = decode(bomb.toString());
    assertThat(d.resources()).isEmpty();
    assertThat(d.errors()).isNotEmpty();
  }

  private Decoded decode(String text) {
    Decoded[] out = new Decoded[1];
    assertThatCode(() -> out[0] = codec.decode("fuzz.yaml", text))
        .as(text)
        .doesNotThrowAnyException();
    return out[0];
  }

  private static String mutate(String text, Random random) {
    StringBuilder sb = new StringBuilder(text);
    int edits = 1 + random.nextInt(4);
    for (int e = 0; e < edits && sb.length() > 1; e++) {
      int at = random.nextInt(sb.length());
      switch (random.nextInt(4)) {
        case 0 -> sb.deleteCharAt(at);
        case 1 -> sb.insert(at, NOISE.charAt(random.nextInt(NOISE.length())));
        case 2 -> {
          int end = Math.min(sb.length(), at + random.nextInt(40));
          sb.delete(at, end);
        }
        default -> {
          int from = random.nextInt(sb.length());
          int end = Math.min(sb.length(), from + random.nextInt(60));
          sb.insert(at, sb.substring(from, end));
        }
      }
    }
    return sb.toString();
  }
}
