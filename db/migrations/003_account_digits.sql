-- Callers key only digits: find "A-1004" from "1004" without scanning every customer.
CREATE INDEX customers_account_digits
    ON customers ((regexp_replace(account_number, '[^0-9]', '', 'g')));
