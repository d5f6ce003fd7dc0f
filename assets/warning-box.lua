-- PDF: a ::: {.warning-box} div becomes a framed block built from LaTeX's own
-- \fbox and minipage, so no package beyond Debian's texlive-latex-recommended is
-- needed (a Quarto callout would load fontawesome5, only in texlive-fonts-extra).
-- Used by both renderers: Quarto (_quarto.yml) and the knitr fallback (R/run/render.R).
function Div(div)
  if not div.classes:includes("warning-box") or not FORMAT:match("latex") then
    return nil
  end
  local blocks = { pandoc.RawBlock("latex", "\\begin{center}\\setlength{\\fboxsep}{8pt}\\fbox{\\begin{minipage}{0.94\\linewidth}\\setlength{\\parskip}{0.5em}") }
  for _, block in ipairs(div.content) do
    table.insert(blocks, block)
  end
  table.insert(blocks, pandoc.RawBlock("latex", "\\end{minipage}}\\end{center}"))
  return blocks
end
