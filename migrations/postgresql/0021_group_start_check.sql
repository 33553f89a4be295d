-- A write group may start from what its API process already knows of a book (the book's row, the accounts, the last
-- event and the ids as its own previous group there left them) instead of reading them in a round trip of its own. It
-- then proves, under the book's row lock and in the round trip that sends its rows and COMMIT, that no other group has
-- committed to the book since. This function makes a failed proof an error: the server then skips everything after
-- it in that round trip, the COMMIT included, and the writer runs the group again from what is stored. Raising from a
-- function rather than dividing by zero in a CASE: the planner may fold a constant error branch and raise it for
-- every row, and an operator reading the server's log sees what happened.
CREATE OR REPLACE FUNCTION ledger_expect(holds boolean, what text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF holds IS NOT TRUE THEN
        RAISE EXCEPTION 'ledger: %', what USING ERRCODE = 'LG001';
    END IF;
    RETURN true;
END
$$;
