/** The {@code bowline} command line: picocli commands, one class per subcommand. */
@NullMarked
package dev.bowline.cli;

import org.jspecify.annotations.NullMarked;
