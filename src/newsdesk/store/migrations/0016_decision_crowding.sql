-- How much an item's join threshold was raised for the stories that competed for it
-- (Engine.crowding): a consolidation pass joins stories only where that raised bar agrees.
-- NULL for decisions made before, and for copies: no raise.
ALTER TABLE story_decisions ADD COLUMN crowding REAL;
