public enum TokenizerPlaceholder {}
