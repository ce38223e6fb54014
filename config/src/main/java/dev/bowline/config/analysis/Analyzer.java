package dev.bowline.config.analysis;

import java.util.function.Consumer;

/** One check across resources. Pure: reads the context, reports messages. */
@FunctionalInterface
public interface Analyzer {
  /** Reports what it finds in {@code context}. */
  void analyze(AnalysisContext context, Consumer<AnalysisMessage> report);
}
