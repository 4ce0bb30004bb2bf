{% macro status_label(column) -%}
    {%- set labels = {'placed': 'open', 'shipped': 'done'} -%}
    case {{ column }}
    {%- for status, label in labels.items() %}
        when '{{ status }}' then '{{ label }}'
    {%- endfor %}
        else 'other' end
{%- endmacro %}
