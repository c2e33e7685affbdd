"""The quiz: the /quiz feature, its rules (engine), its SQL (store) and its wording (render)."""
