from xero_integration.core.where import equals, text_literal


def test_plain_text_is_quoted():
	assert equals("Reference", "REF-1") == 'Reference=="REF-1"'


def test_a_double_quote_is_written_twice_and_nothing_else_changes():
	assert text_literal('PO "17" \\ & && OR') == '"PO ""17"" \\ & && OR"'
